"""The ILL desk of a library on the gateway: readers' requests, the lender rota, and the
requests other libraries ask it to supply. Decisions only, no I/O, like the relay.

A reader's request (:class:`~isoill.library.requests.ReaderRequest`) goes out as one ISO
ILL transaction per supplier tried, an *attempt*. Which suppliers, in which order, is the
*rota*: the holding library the reader chose, then the holdings table's libraries (the CALIS
centre routes by 馆藏址). When a supplier answers Unfilled, Retry, Expired, declines with
conditions the reader has not agreed to, or does not answer by the library's deadline, the
desk asks the next one at once, telling it who is still to be asked (``send-to-list``) and
who already said no (``already-tried-list``), as an OCLC lender string does; when no supplier
is left the request ends NOT-SUPPLIED and the reader is told every supplier's reason.

The two CALIS modes differ in who acts:

* **distributed**: the reader's own library is the requester; its staff send each request on
  (:meth:`Desk.send`), documents come to the library, and staff record their arrival
  (:meth:`Desk.received`), which sends Received.
* **central**: the CALIS centre is the requester for its member libraries; it sends each
  request on as soon as it is submitted, asks the supplier to deliver to the reader
  (delivery-address), and records Received as soon as the supplier ships, as the CALIS
  centre system does. That Received is the centre's bookkeeping, not proof the reader has
  the document; the reader's history says so.

E-mails (a reader's notice, the CALIS e-mail mode's request to staff) are outbox items like
APDUs, written in the same database transaction as the change they report, so none is lost
or sent for a change that did not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from isoill.apdu.apdus import (
    APDU,
    Cancel,
    CancelReply,
    CheckedIn,
    ConditionalReply,
    Expired,
    ForwardNotification,
    ILLAnswer,
    ILLRequest,
    Overdue,
    Recall,
    Received,
    Renew,
    RenewAnswer,
    Returned,
    Shipped,
)
from isoill.apdu.enums import Conditions, ILLServiceType, ReasonUnfilled, TransactionResults
from isoill.apdu.types import (
    Amount,
    ConditionalResults,
    DateDue,
    SupplyDetails,
    SystemId,
    TransactionId,
    UnfilledResults,
)
from isoill.errors import IsoillError
from isoill.gateway.config import Config, Network
from isoill.gateway.mail import mail_item
from isoill.gateway.relay import Forward
from isoill.gateway.store import Change, Loader, OutboxItem, StoredLeg
from isoill.library.reasons import code, reason_text
from isoill.library.requests import (
    Attempt,
    ReaderRequest,
    RequestState,
    Rota,
    SupplyRequest,
    SupplyState,
    Tried,
    request_key,
)
from isoill.library.settings import (
    Library,
    libraries,
    library_label,
    library_named,
    rush_fee,
    staff_of,
)
from isoill.library.wording import PHRASES, problem, say
from isoill.machine import ProhibitedTransition, Role, State, Transaction, machine
from isoill.machine.transaction import TransactionKey
from isoill.mapping import calis_mail
from isoill.mapping.commands import common_fields
from isoill.mapping.holdings import Holdings
from isoill.mapping.reader_form import (
    ReaderForm,
    ServiceType,
    Urgency,
    from_request,
    requester_note,
    to_request,
)
from isoill.multilingual import Said, in_lang

#: How long a supplier lends an item when staff ship a loan without saying.
LOAN_PERIOD = timedelta(days=28)
#: The requester-note by which a supplier's staff know a CCC request (the CALIS guide: 请求
#: 馆为CALIS馆际互借中心, 请求备注中注明"从CCC检索到的文献!", 即为CCC的馆际互借请求).
CCC_NOTE = "从CCC检索到的文献!"


class DeskRefused(IsoillError):
    """An action the desk will not take; ``reasons`` says why, for the page to show."""


@dataclass(frozen=True)
class DeskStep:
    """What one desk action writes (atomically), and the request as it is afterwards."""

    change: Change
    value: ReaderRequest | SupplyRequest


class Desk:
    """The desks of every library network on the gateway, given its configuration."""

    def __init__(
        self, config: Config, forward: Forward, holdings: dict[str, Holdings] | None = None
    ) -> None:
        self.config = config
        self.forward = forward
        self.holdings = holdings if holdings is not None else _load_holdings(config)

    # --- a reader's request ----------------------------------------------------------------

    def submit(
        self,
        library: str,
        reader: str,
        form: ReaderForm,
        number: int,
        at: datetime,
        member: str = "",
    ) -> DeskStep:
        """A reader's (of ``member``, a CALIS centre's member library) new request. Central
        mode sends it on at once; distributed mode keeps it for the library's staff
        (用户申请尚未处理)."""
        network = self._library(library)
        candidates = self._candidates(network, form, ())
        request = ReaderRequest(
            number=number,
            library=library,
            reader=reader,
            form=form,
            submitted=at,
            member=member,
            rota=Rota(candidates=candidates),
            history=((at, say("submitted")),),
        )
        leg = StoredLeg(
            library,
            request_key(number),
            reader,
            "",
            Transaction(Role.REQUESTER, _local_id(network, number)),
            payload=request,
        )
        if network.mode == "central":
            return self._advance(leg, request, at)
        return DeskStep(Change(legs=(self._with(leg, request),)), request)

    def send(self, leg: StoredLeg, suppliers: Sequence[str], at: datetime) -> DeskStep:
        """Staff send an unprocessed request on (distributed mode): to the suppliers they
        name, in order, else to those the holdings table gives."""
        request = _reader(leg)
        if request.state is not RequestState.UNPROCESSED:
            raise DeskRefused([say("sent-already", number=request.number)])
        network = self._library(request.library)
        self._check_named(network, request.form, suppliers)
        candidates = self._candidates(network, request.form, suppliers)
        if not candidates:
            raise DeskRefused([problem("suppliers", "no-supplier")])
        return self._advance(leg, replace(request, rota=Rota(candidates=candidates)), at)

    def cancel(self, leg: StoredLeg, reader: str | None, load: Loader, at: datetime) -> DeskStep:
        """The reader (``reader``) or staff (None) cancel a request until it is shipped.
        Not yet sent, it ends at once; with a supplier, a Cancel goes there and its
        Cancel-Reply decides (:meth:`arrived`)."""
        request = _reader(leg)
        if reader is not None and request.reader != reader:
            raise KeyError(request.number)
        by = "reader" if reader is not None else "staff"
        if request.state is RequestState.UNPROCESSED:
            request = request.noted(at, say(f"cancelled-{by}"), state=RequestState.CANCELLED)
            return DeskStep(Change(legs=(self._with(leg, request),)), request)
        current = request.rota.current
        asked = (RequestState.SENT, RequestState.CONDITIONAL)
        if request.state not in asked or current is None:
            raise DeskRefused([say("not-cancellable", number=request.number)])
        iso = self._attempt_leg(request, load)
        cancel = Cancel(
            **common_fields(iso.transaction, at), requester_note=PHRASES[f"cancelled-{by}"][1]
        )
        iso, items = self._send(iso, cancel, at)
        wait = timedelta(seconds=self._library(request.library).cancel_deadline)
        request = request.noted(
            at,
            say(f"cancel-asked-{by}", who=self._named(current.symbol)),
            state=RequestState.CANCEL_PENDING,
            rota=_waiting(request.rota, at + wait),
        )
        return self._moved(leg, request, iso, items)

    def renew(self, leg: StoredLeg, reader: str, load: Loader, at: datetime) -> DeskStep:
        """The reader asks for more time with a loan: Renew goes to the supplier, whose
        Renew-Answer gives the new date due (:meth:`arrived`)."""
        request = _reader(leg)
        if request.reader != reader:
            raise KeyError(request.number)
        if (
            request.state is not RequestState.RECEIVED
            or request.form.service is not ServiceType.LOAN
        ):
            raise DeskRefused([say("not-renewable", number=request.number)])
        iso = self._attempt_leg(request, load)
        iso, items = self._send(iso, Renew(**common_fields(iso.transaction, at)), at)
        request = request.noted(at, say("renew-asked"))
        return self._moved(leg, request, iso, items)

    def _loan_notice(
        self,
        apdu: Recall | Overdue,
        iso: StoredLeg,
        leg: StoredLeg,
        request: ReaderRequest,
        who: str,
        at: datetime,
    ) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...]]:
        """The supplier recalls the loan, or says it is overdue: noted, and the reader is
        told at once."""
        kind = "recall" if isinstance(apdu, Recall) else "overdue"
        request = request.noted(at, say(kind, who=who))
        note = [apdu.responder_note] if apdu.responder_note else []
        notice = self._notice(self._library(request.library), request, kind, note, at)
        return (iso, self._with(leg, request)), (notice,)

    def _cancel_answered(
        self,
        apdu: CancelReply,
        iso: StoredLeg,
        leg: StoredLeg,
        request: ReaderRequest,
        at: datetime,
    ) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...]]:
        """The supplier's Cancel-Reply: yes ends the request (the reader is told); no
        leaves it where the supplier's transaction is."""
        current = request.rota.current
        who = self._named(iso.peer if current is None else current.symbol)
        if request.state is not RequestState.CANCEL_PENDING:
            noted = request.noted(at, say("cancel-reply", who=who))
            return (iso, self._with(leg, noted)), ()
        if apdu.answer:
            return self._cancelled(iso, leg, request, say("cancel-agreed", who=who), at)
        state = RequestState.SENT
        if iso.transaction.state is State.CONDITIONAL:
            state = RequestState.CONDITIONAL
        # Back to waiting for the supplier (its whole deadline again), or, at its
        # conditions, for the reader (no deadline): the Cancel's deadline is over.
        deadline = None
        if state is RequestState.SENT:
            deadline = at + timedelta(seconds=self._library(request.library).deadline)
        rota = request.rota if request.rota.current is None else _waiting(request.rota, deadline)
        noted = request.noted(at, say("cancel-refused", who=who), state=state, rota=rota)
        return (iso, self._with(leg, noted)), ()

    def _cancelled(
        self, iso: StoredLeg, leg: StoredLeg, request: ReaderRequest, text: str, at: datetime
    ) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...]]:
        """The request ends cancelled, as asked, and the reader is told."""
        request = request.noted(
            at,
            text,
            state=RequestState.CANCELLED,
            rota=Rota((), None, request.rota.tried),
        )
        notice = self._notice(self._library(request.library), request, "cancelled", (), at)
        return (iso, self._with(leg, request)), (notice,)

    def conditions(
        self, leg: StoredLeg, reader: str, accept: bool, load: Loader, at: datetime
    ) -> DeskStep:
        """The reader's answer to a supplier's conditions (a fee above their cost limit):
        Conditional-Reply goes to the supplier; accepted, the supplier may ship at that fee;
        declined, the rota asks the next library."""
        request = _reader(leg)
        if request.reader != reader:
            raise KeyError(request.number)
        current = request.rota.current
        if request.state is not RequestState.CONDITIONAL or current is None:
            raise DeskRefused([say("no-conditions", number=request.number)])
        iso = self._attempt_leg(request, load)
        reply = ConditionalReply(**common_fields(iso.transaction, at), answer=accept)
        iso, items = self._send(iso, reply, at)
        if accept:
            deadline = at + timedelta(seconds=self._library(request.library).deadline)
            request = request.noted(
                at,
                say("conditions-accepted", conditions=request.conditions),
                state=RequestState.SENT,
                rota=_waiting(request.rota, deadline),
            )
            return self._moved(leg, request, iso, items)
        why = say("conditions-declined", conditions=request.conditions)
        step = self._next(leg, replace(request, conditions=""), current.symbol, why, at)
        return DeskStep(_joined(step.change, [iso], items), step.value)

    def received(self, leg: StoredLeg, load: Loader, at: datetime) -> DeskStep:
        """Staff record that the shipped document reached the library (distributed mode):
        Received goes to the supplier."""
        request = _reader(leg)
        if request.state is not RequestState.SHIPPED or request.rota.current is None:
            raise DeskRefused([say("not-shipped", number=request.number)])
        iso = self._attempt_leg(request, load)
        shipped = iso.transaction.apdus(Shipped)
        iso_after, items = self._send(iso, _received(iso.transaction, shipped, at), at)
        request = request.noted(at, say("received"), state=RequestState.RECEIVED)
        return DeskStep(Change(legs=(self._with(leg, request), iso_after), outbox=items), request)

    def returned(self, leg: StoredLeg, load: Loader, at: datetime, via: str = "") -> DeskStep:
        """Staff send a loan back (distributed mode: the library borrowed it): Returned goes
        to the supplier, whose Checked-in then ends the transaction."""
        request = _reader(leg)
        if request.state is not RequestState.RECEIVED or request.rota.current is None:
            raise DeskRefused([say("not-received", number=request.number)])
        iso = self._attempt_leg(request, load)
        shipped = iso.transaction.apdus(Shipped)
        if not shipped or shipped[-1].shipped_service_type is not ILLServiceType.LOAN:
            raise DeskRefused([say("a-copy", number=request.number)])
        returned = Returned(
            **common_fields(iso.transaction, at),
            date_returned=at.date(),
            returned_via=via.strip()[:100] or None,
        )
        iso_after, items = self._send(iso, returned, at)
        line = say("returned-via", via=via.strip()[:100]) if via.strip() else say("returned")
        request = request.noted(at, line, state=RequestState.RETURNED)
        return DeskStep(Change(legs=(self._with(leg, request), iso_after), outbox=items), request)

    def overdue(self, leg: StoredLeg, load: Loader, at: datetime) -> Change:
        """Time has run out for a request: its valid-until date has passed (it ends, and the
        supplier asked now is cancelled), or the current supplier has not answered by the
        deadline (it is cancelled there and the rota moves on)."""
        request = _reader(leg)
        expires = request.expires
        if expires is not None and expires <= at:
            legs, items = self._cancel_current(
                request, load, at, "the reader's valid-until date passed"
            )
            step = self._expire(leg, request, at)
            return _joined(step.change, legs, items)
        current = request.rota.current
        if request.state is RequestState.CANCEL_PENDING and current is not None:
            if current.deadline is None or current.deadline > at:
                return Change()
            return self._cancel_unanswered(leg, request, current, at).change
        if request.state is not RequestState.SENT or current is None:
            return Change(legs=(self._with(leg, request),))
        if current.deadline is not None and current.deadline > at:
            return Change()
        legs, items = self._cancel_current(
            request, load, at, "no answer by the deadline: the request goes to the next library"
        )
        why = say("no-answer", span=_span(self._library(request.library).deadline))
        step = self._next(leg, request, current.symbol, why, at)
        return _joined(step.change, legs, items)

    def _cancel_unanswered(
        self, leg: StoredLeg, request: ReaderRequest, current: Attempt, at: datetime
    ) -> DeskStep:
        """The supplier has not answered the Cancel by the library's cancel deadline. The
        request cannot end on a silence (the supplier may still ship, or refuse), so it
        waits on for the Cancel-Reply, without a deadline now, and those who can act are
        told once: the reader, and the library's ILL staff, who take it up with the
        supplier."""
        network = self._library(request.library)
        who, within = self._named(current.symbol), _span(network.cancel_deadline)
        request = request.noted(
            at, say("cancel-unanswered", who=who, span=within), rota=_waiting(request.rota, None)
        )
        why = say("cancel-unanswered-why", who=who, span=within)
        items = [self._notice(network, request, "cancel-unanswered", [why], at)]
        if network.staff_email:
            message = calis_mail.cancel_unanswered_notice(
                request.form,
                number=request.number,
                supplier=who,
                within=(in_lang(within, "zh"), in_lang(within, "en")),
                library=network.label or network.symbol,
                sender=self.config.mail.address,
                recipient=network.staff_email,
                at=at,
                lang="zh",
            )
            purpose = (
                f"cancel-unanswered|staff|{network.name}|{request.number}|{len(request.history)}"
            )
            items.append(mail_item(network.staff_email, message, purpose))
        return DeskStep(Change(legs=(self._with(leg, request),), outbox=tuple(items)), request)

    def _cancel_current(
        self, request: ReaderRequest, load: Loader, at: datetime, why: str
    ) -> tuple[list[StoredLeg], list[OutboxItem]]:
        """A Cancel to the supplier asked now, when its state takes one."""
        current = request.rota.current
        asked = (RequestState.SENT, RequestState.CONDITIONAL)
        if request.state not in asked or current is None:
            return [], []
        iso = load(current.network, current.key)
        if iso is None or iso.transaction.request is None:
            return [], []
        cancel = Cancel(**common_fields(iso.transaction, at), requester_note=why)
        try:
            iso, queued = self._send(iso, cancel, at)
        except DeskRefused:
            return [], []  # the supplier's state takes no Cancel: go on all the same
        return [iso], list(queued)

    def _expire(self, leg: StoredLeg, request: ReaderRequest, at: datetime) -> DeskStep:
        """The request ends by its valid-until date, and the reader is told."""
        network = self._library(request.library)
        current = request.rota.current
        tried = request.rota.tried
        if current is not None:
            tried = (*tried, Tried(current.symbol, say("no-answer-valid"), at))
        request = request.noted(
            at,
            say("expired"),
            state=RequestState.EXPIRED,
            rota=Rota((), None, tried),
        )
        notice = self._notice(network, request, "expired", self._reasons(tried), at)
        return DeskStep(Change(legs=(self._with(leg, request),), outbox=(notice,)), request)

    def arrived(
        self, apdu: APDU, iso: StoredLeg, leg: StoredLeg, at: datetime
    ) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...]]:
        """An APDU from a supplier (already accepted by the ISO leg's machine, ``iso`` is
        that leg after it) for a request of this library: what it does to the request, the
        APDUs the desk answers with, the next attempt."""
        if isinstance(leg.payload, SupplyRequest):
            return self._supply_arrived(apdu, iso, leg, at)
        request = _reader(leg)
        current = request.rota.current
        who = self._named(current.symbol if current is not None else iso.peer)
        if current is None or current.key != iso.key:
            late = request.noted(
                at, say("late", who=self._named(iso.peer), apdu=type(apdu).__name__)
            )
            return (iso, self._with(leg, late)), ()
        if isinstance(apdu, CancelReply):
            return self._cancel_answered(apdu, iso, leg, request, at)
        if request.state is RequestState.CANCEL_PENDING and _ends(apdu):
            # The supplier said no as the Cancel crossed: the reader wanted it ended anyway.
            return self._cancelled(iso, leg, request, say("supplier-cancelled", who=who), at)
        if isinstance(apdu, ILLAnswer):
            return self._answered(apdu, iso, leg, request, who, at)
        if isinstance(apdu, Expired):
            step = self._next(leg, request, current.symbol, reason_text(apdu), at)
            return (iso, *step.change.legs), step.change.outbox
        if isinstance(apdu, Shipped):
            return self._shipped(apdu, iso, leg, request, who, at)
        if isinstance(apdu, ForwardNotification):
            new: str = apdu.responder_id.name or say("another-library")
            if apdu.responder_id.symbol:
                new = self._named(apdu.responder_id.symbol)
            noted = request.noted(at, say("forwarded", who=who, new=new))
            return (iso, self._with(leg, noted)), ()
        if isinstance(apdu, CheckedIn):
            noted = request.noted(at, say("checked-in", who=who))
            return (iso, self._with(leg, noted)), ()
        if isinstance(apdu, Recall | Overdue):
            return self._loan_notice(apdu, iso, leg, request, who, at)
        if isinstance(apdu, RenewAnswer):
            due = None if apdu.date_due is None else apdu.date_due.date_due_field
            if apdu.answer and isinstance(due, date):
                text = say("renewed", who=who, due=due.isoformat())
                noted = request.noted(at, text, return_date=due)
            else:
                noted = request.noted(at, say("renew-refused", who=who))
            return (iso, self._with(leg, noted)), ()
        noted = request.noted(at, say("apdu-from", who=who, apdu=type(apdu).__name__))
        return (iso, self._with(leg, noted)), ()

    def _answered(
        self,
        apdu: ILLAnswer,
        iso: StoredLeg,
        leg: StoredLeg,
        request: ReaderRequest,
        who: str,
        at: datetime,
    ) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...]]:
        results = apdu.transaction_results
        if results in (TransactionResults.UNFILLED, TransactionResults.RETRY):
            assert request.rota.current is not None
            step = self._next(leg, request, request.rota.current.symbol, reason_text(apdu), at)
            return (iso, *step.change.legs), step.change.outbox
        if results is TransactionResults.CONDITIONAL:
            # The reader's form is all the reader agreed to (cost limit included): the desk
            # cannot accept more on their behalf, so the reader is asked (Conditional-Reply
            # waits for :meth:`conditions`), with no supplier's deadline meanwhile.
            conditions = reason_text(apdu)
            current = request.rota.current
            assert current is not None
            request = request.noted(
                at,
                say("conditions-from", who=who, conditions=conditions),
                state=RequestState.CONDITIONAL,
                conditions=conditions,
                rota=_waiting(request.rota, None),
            )
            network = self._library(request.library)
            notice = self._notice(network, request, "conditional", [conditions], at)
            return (iso, self._with(leg, request)), (notice,)
        # Will supply, hold placed, estimate, locations: an answer, not a no. The supplier
        # gets another deadline's time to ship.
        current = request.rota.current
        assert current is not None
        deadline = at + timedelta(seconds=self._library(request.library).deadline)
        rota = replace(request.rota, current=replace(current, deadline=deadline))
        noted = request.noted(at, say("answer-from", who=who, answer=reason_text(apdu)), rota=rota)
        return (iso, self._with(leg, noted)), ()

    def _shipped(
        self,
        apdu: Shipped,
        iso: StoredLeg,
        leg: StoredLeg,
        request: ReaderRequest,
        who: str,
        at: datetime,
    ) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...]]:
        details = apdu.supply_details
        cost = details.cost.monetary_value if details.cost is not None else None
        due = details.date_due.date_due_field if details.date_due is not None else None
        request = request.noted(
            at,
            say("shipped-by", who=who),
            state=RequestState.SHIPPED,
            total_cost=cost,
            return_date=due,
        )
        items: list[OutboxItem] = []
        network = self._library(request.library)
        if network.mode == "central" and iso.transaction.state is State.SHIPPED:
            # (Not while a Cancel crossed the Shipped: its reply comes first.)
            iso, items_received = self._send(iso, _received(iso.transaction, [apdu], at), at)
            items.extend(items_received)
            request = request.noted(
                at,
                say("central-received"),
                state=RequestState.RECEIVED,
            )
        items.append(self._notice(network, request, "shipped", (), at))
        return (iso, self._with(leg, request)), tuple(items)

    # --- the rota ----------------------------------------------------------------------------

    def _next(
        self, leg: StoredLeg, request: ReaderRequest, symbol: str, why: str, at: datetime
    ) -> DeskStep:
        """The supplier ``symbol`` did not supply, for ``why``: ask the next one."""
        tried = (*request.rota.tried, Tried(symbol, why, at))
        request = request.noted(
            at,
            say("cannot-supply", who=self._named(symbol), why=why),
            rota=Rota(request.rota.candidates, None, tried),
        )
        return self._advance(leg, request, at)

    def _advance(self, leg: StoredLeg, request: ReaderRequest, at: datetime) -> DeskStep:
        """Ask the next supplier on the rota that the gateway can reach; when none is left,
        the request ends NOT-SUPPLIED and the reader is told every reason."""
        network = self._library(request.library)
        expires = request.expires
        if expires is not None and expires <= at:
            return self._expire(leg, request, at)
        candidates = list(request.rota.candidates)
        tried = list(request.rota.tried)
        while candidates:
            symbol = candidates.pop(0)
            peer = self.config.owner(symbol)
            if peer is None:
                tried.append(Tried(symbol, say("no-route"), at))
                continue
            attempt = len(tried) + 1
            tid = TransactionId(
                initial_requester_id=SystemId.institution(network.symbol),
                transaction_group_qualifier=str(request.number),
                transaction_qualifier=f"{request.number}-{attempt}",
            )
            ill_request = to_request(
                request.form,
                transaction_id=tid,
                requester=SystemId.institution(network.symbol),
                responder=SystemId.institution(symbol),
                at=at,
                deliver_to_reader=network.mode == "central",
                send_to=[SystemId.institution(s) for s in candidates],
                already_tried=[SystemId.institution(t.symbol) for t in tried],
                requester_note=_ccc_note(network, request.form),
            )
            key = str(TransactionKey.of(ill_request))
            iso = StoredLeg(
                peer.network,
                key,
                peer.name,
                network.name,
                Transaction(Role.REQUESTER, tid),
                partner_key=request.key,
            )
            iso, items, refusal = self.forward(ill_request, iso, at)
            if refusal is not None:
                tried.append(Tried(symbol, _refused(say("cannot-go"), refusal.note), at))
                continue
            deadline = at + timedelta(seconds=network.deadline)
            rota = Rota(
                tuple(candidates),
                Attempt(symbol, peer.name, peer.network, key, at, deadline),
                tuple(tried),
            )
            request = request.noted(
                at, say("sent-to", who=self._named(symbol)), state=RequestState.SENT, rota=rota
            )
            legs = (self._with(leg, request), iso)
            return DeskStep(Change(legs=legs, outbox=items), request)
        request = request.noted(
            at,
            say("none-could"),
            state=RequestState.NOT_SUPPLIED,
            rota=Rota((), None, tuple(tried)),
        )
        reasons = self._reasons(tried) or [say("no-holder")]
        notice = self._notice(network, request, "not-supplied", reasons, at)
        return DeskStep(Change(legs=(self._with(leg, request),), outbox=(notice,)), request)

    def _check_named(self, network: Library, form: ReaderForm, named: Sequence[str]) -> None:
        """Suppliers staff typed must be libraries the gateway reaches, not this library
        itself, and holders of the title: a mistyped symbol is the form's problem, before
        anything is sent, not a supplier's no that ends the request.

        *Holders* are what the library's holdings table (馆藏址, the CALIS centre's routing
        table) lists for the form's ISSN, ISBN or title, and the holding library the reader
        named (收藏馆名称). When the table lists holders, a typed supplier that is none of
        them is refused, naming them, so that staff pick one. When it lists none (or the
        library has no table), staff's choice stands: the guide leaves where a request goes
        to them (馆际互借申请最终发给哪个馆, 由馆际互借员自行决定), and a table that does not
        know a title cannot say who lacks it."""
        own = {network.symbol.upper(), *(m.symbol.upper() for m in network.members)}
        table = self.holdings.get(network.name)
        listed = table.lookup(form) if table is not None else ()
        holders = {s.upper() for s in (*listed, form.holding_library.strip()) if s}
        problems = []
        for symbol in (s.strip() for s in named if s.strip()):
            if symbol.upper() in own:
                problems.append(problem("suppliers", "supplier-is-self", who=symbol))
            elif self.config.owner(symbol) is None:
                problems.append(problem("suppliers", "unknown-supplier", who=symbol))
            elif listed and symbol.upper() not in holders:
                shown = ", ".join(listed)
                problems.append(problem("suppliers", "not-held", who=symbol, holders=shown))
        if problems:
            raise DeskRefused(problems)

    def _candidates(
        self, network: Library, form: ReaderForm, named: Sequence[str]
    ) -> tuple[str, ...]:
        """The rota: the suppliers staff named, else the holding library the reader chose
        followed by the holdings table's that the gateway reaches; never the library
        itself."""
        found: list[str] = []
        if named:
            found.extend(s.strip() for s in named if s.strip())
        else:
            if form.holding_library:
                found.append(form.holding_library.strip())
            holdings = self.holdings.get(network.name)
            if holdings is not None:
                found.extend(holdings.lookup(form))
            found = [s for s in found if self.config.owner(s) is not None]
        own = {network.symbol.upper(), *(m.symbol.upper() for m in network.members)}
        unique: list[str] = []
        for symbol in found:
            if symbol.upper() not in own and symbol.upper() not in (u.upper() for u in unique):
                unique.append(symbol)
        return tuple(unique)

    # --- requests to supply ------------------------------------------------------------------

    def new_request(
        self, request: ILLRequest, key: str, sender_network: str, network: Network, at: datetime
    ) -> StoredLeg:
        """The library's own leg of a request another library sent it: the form staff see,
        and the responder's machine, which their actions must satisfy."""
        outcome = machine.receive(
            Transaction(Role.RESPONDER, request.transaction_id), request, at=at
        )
        requester = request.requester_id or request.transaction_id.initial_requester_id
        supply = SupplyRequest(
            key=key,
            library=network.name,
            requester=(requester.symbol or requester.name or "") if requester else "",
            form=from_request(request),
            arrived=at,
            note=requester_note(request) or "",
        )
        return StoredLeg(network.name, key, "", sender_network, outcome.transaction, payload=supply)

    def ship(
        self,
        leg: StoredLeg,
        iso: StoredLeg,
        total_cost: Decimal,
        note: str,
        at: datetime,
        due: date | None = None,
    ) -> DeskStep:
        """运送: Shipped with the total fee in CNY (and a loan's date due). A fee above the
        reader's cost limit (费用限制) cannot be shipped as is: the reader must accept it
        first (:meth:`conditional`), unless they already have."""
        supply = _supply(leg)
        self._pending(supply)
        limit = _cost_limit(iso.transaction.request)
        if limit is not None and total_cost > max(limit, supply.agreed_cost or limit):
            raise DeskRefused(
                [
                    problem(
                        "total_cost", "over-limit", cost=f"{total_cost:.2f}", limit=f"{limit:.2f}"
                    )
                ]
            )
        txn = iso.transaction
        loan = txn.request is not None and ILLServiceType.LOAN in txn.request.ill_service_type
        service = ILLServiceType.LOAN if loan else ILLServiceType.COPY_NON_RETURNABLE
        if supply.form.service is ServiceType.COPY and txn.request is not None:
            service = (
                ILLServiceType.COPY_NON_RETURNABLE
                if ILLServiceType.COPY_NON_RETURNABLE in txn.request.ill_service_type
                else service
            )
        if due is not None and due <= at.date():
            raise DeskRefused([problem("due", "due-past", due=due.isoformat())])
        if service is not ILLServiceType.LOAN:
            due = None
        elif due is None:
            due = (at + LOAN_PERIOD).date()
        date_due = None if due is None else DateDue(date_due_field=due)
        shipped = Shipped(
            **common_fields(txn, at),
            shipped_service_type=service,
            supply_details=SupplyDetails(
                date_shipped=at.date(),
                date_due=date_due,
                cost=Amount(monetary_value=total_cost, currency_code="CNY"),
            ),
            responder_note=note or None,
        )
        iso, items = self._send(iso, shipped, at)
        supply = replace(supply, state=SupplyState.SHIPPED, total_cost=total_cost, date_due=due)
        return _answered_supply(leg, shipped, iso, items, supply, at)

    def conditional(
        self, leg: StoredLeg, iso: StoredLeg, total_cost: Decimal, note: str, at: datetime
    ) -> DeskStep:
        """有条件满足: the fee is above the reader's cost limit. ILL-Answer conditional
        (cost-exceeds-limit) with the fee in its note; the requester's Conditional-Reply
        decides whether it is shipped."""
        supply = _supply(leg)
        self._pending(supply)
        fee = f"CNY {total_cost:.2f}"
        answer = ILLAnswer(
            **common_fields(iso.transaction, at),
            transaction_results=TransactionResults.CONDITIONAL,
            results_explanation=ConditionalResults(conditions=Conditions.COST_EXCEEDS_LIMIT),
            responder_note=f"{fee}; {note}" if note else fee,
        )
        iso, items = self._send(iso, answer, at)
        supply = replace(supply, state=SupplyState.CONDITIONAL, total_cost=total_cost)
        return _answered_supply(leg, answer, iso, items, supply, at)

    def unfillable(
        self, leg: StoredLeg, iso: StoredLeg, reason: str, note: str, at: datetime
    ) -> DeskStep:
        """无法满足: ILL-Answer unfilled with the reason. The reader is not mailed from here:
        the requesting library may ask the next supplier on its rota, and it mails its
        reader once, when the request really ends unfilled."""
        supply = _supply(leg)
        self._pending(supply)
        try:
            why = ReasonUnfilled[reason.strip().upper().replace("-", "_")]
        except KeyError:
            known = ", ".join(code(r.name) for r in ReasonUnfilled)
            raise DeskRefused(
                [problem("reason", "not-a-reason", reason=reason, known=known)]
            ) from None
        answer = ILLAnswer(
            **common_fields(iso.transaction, at),
            transaction_results=TransactionResults.UNFILLED,
            results_explanation=UnfilledResults(reason_unfilled=why),
            responder_note=note or None,
        )
        iso, items = self._send(iso, answer, at)
        supply = replace(supply, state=SupplyState.UNFILLABLE, reason=reason_text(answer))
        return _answered_supply(leg, answer, iso, items, supply, at)

    def loan_notice(
        self, leg: StoredLeg, iso: StoredLeg, kind: str, note: str, at: datetime
    ) -> DeskStep:
        """Staff recall a loan (``recall``: Recall) or tell the requester it is overdue
        (``overdue``: Overdue with its date due); the requester's reader is told."""
        supply = _supply(leg)
        if supply.state not in (SupplyState.SHIPPED, SupplyState.RENEW_ASKED):
            raise DeskRefused([say("not-on-loan")])
        fields = common_fields(iso.transaction, at)
        apdu: Recall | Overdue
        if kind == "recall":
            apdu = Recall(**fields, responder_note=note or None)
        else:
            due = supply.date_due or at.date()
            apdu = Overdue(
                **fields, date_due=DateDue(date_due_field=due), responder_note=note or None
            )
        iso, items = self._send(iso, apdu, at)
        return _answered_supply(leg, apdu, iso, items, supply, at)

    def renew_answer(
        self, leg: StoredLeg, iso: StoredLeg, agree: bool, due: date | None, at: datetime
    ) -> DeskStep:
        """Staff answer a renewal the requester asked for: yes with the new date due (28
        days from the old one when left empty), or no."""
        supply = _supply(leg)
        if supply.state is not SupplyState.RENEW_ASKED:
            raise DeskRefused([say("no-renewal")])
        new_due = None
        if agree:
            new_due = due or (supply.date_due or at.date()) + LOAN_PERIOD
            if new_due <= at.date():
                raise DeskRefused([problem("due", "due-past", due=new_due.isoformat())])
        answer = RenewAnswer(
            **common_fields(iso.transaction, at),
            answer=agree,
            date_due=None if new_due is None else DateDue(date_due_field=new_due),
        )
        iso, items = self._send(iso, answer, at)
        supply = replace(supply, state=SupplyState.SHIPPED, date_due=new_due or supply.date_due)
        return _answered_supply(leg, answer, iso, items, supply, at)

    def checked_in(self, leg: StoredLeg, iso: StoredLeg, at: datetime) -> DeskStep:
        """已归还入库: the returned loan is back on the shelf; Checked-In closes it."""
        supply = _supply(leg)
        if supply.state is not SupplyState.RETURNED:
            raise DeskRefused([say("not-returned")])
        checked = CheckedIn(**common_fields(iso.transaction, at), date_checked_in=at.date())
        iso, items = self._send(iso, checked, at)
        supply = replace(supply, state=SupplyState.CHECKED_IN)
        return _answered_supply(leg, checked, iso, items, supply, at)

    def _supply_arrived(
        self, apdu: APDU, iso: StoredLeg, leg: StoredLeg, at: datetime
    ) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...]]:
        supply = _supply(leg)
        outcome = machine.receive(leg.transaction, apdu, at=at)
        mirrored = replace(leg, transaction=outcome.transaction)
        if isinstance(apdu, Cancel):
            # Nothing shipped yet: the library agrees at once; shipped, it is too late.
            agree = supply.state in (SupplyState.PENDING, SupplyState.CONDITIONAL)
            reply = CancelReply(**common_fields(iso.transaction, at), answer=agree)
            iso, items = self._send(iso, reply, at)
            mirrored = _mirror_send(mirrored, reply, at)
            if agree:
                supply = replace(supply, state=SupplyState.CANCELLED)
            return (iso, replace(mirrored, payload=supply)), items
        if isinstance(apdu, Renew) and supply.state is SupplyState.SHIPPED:
            asked = replace(supply, state=SupplyState.RENEW_ASKED)
            return (iso, replace(mirrored, payload=asked)), ()
        if isinstance(apdu, Returned) and supply.state in (
            SupplyState.SHIPPED,
            SupplyState.RENEW_ASKED,
        ):
            returned = replace(supply, state=SupplyState.RETURNED)
            return (iso, replace(mirrored, payload=returned)), ()
        if isinstance(apdu, ConditionalReply) and supply.state is SupplyState.CONDITIONAL:
            if apdu.answer:
                agreed = replace(supply, state=SupplyState.PENDING, agreed_cost=supply.total_cost)
                return (iso, replace(mirrored, payload=agreed)), ()
            declined = replace(
                supply,
                state=SupplyState.UNFILLABLE,
                reason=say("requester-declined"),
            )
            return (iso, replace(mirrored, payload=declined)), ()
        return (iso, mirrored), ()

    # --- CALIS e-mail mode -----------------------------------------------------------------

    def mail_request(
        self,
        own_library: str,
        to_library: str,
        form: ReaderForm,
        reader: str,
        at: datetime,
        member: str = "",
    ) -> OutboxItem:
        """The reader's request as a readable mail to their own library's ILL staff: a member
        library's own staff (``member``, central mode) when it has an address. The system
        must not send it to another library's staff (the CCC guide's rule): the reader's
        library pays for what it orders."""
        network = self._library(own_library)
        if to_library not in {network.name, network.symbol, member} - {""}:
            own = member or network.label or network.symbol
            raise DeskRefused([say("own-staff-only", library=own, to=to_library)])
        address, label = staff_of(network, member)
        if not address:
            raise DeskRefused([say("no-staff-email", library=label)])
        message = calis_mail.request_mail(
            form,
            number=None,
            library=label,
            sender=self.config.mail.address,
            recipient=address,
            at=at,
            lang="zh",
        )
        return mail_item(address, message, f"request-mail|{reader}|{at.isoformat()}")

    # --- helpers -------------------------------------------------------------------------------

    def _library(self, name: str) -> Library:
        return library_named(self.config, name)

    def _named(self, symbol: str) -> str:
        return library_label(self.config, symbol)

    def _reasons(self, tried: Sequence[Tried]) -> list[str]:
        """Every supplier's no, named, for the reader's notice."""
        return [say("answer-from", who=self._named(t.symbol), answer=t.reason) for t in tried]

    def _attempt_leg(self, request: ReaderRequest, load: Loader) -> StoredLeg:
        current = request.rota.current
        assert current is not None
        iso = load(current.network, current.key)
        if iso is None:
            raise DeskRefused([say("transaction-missing", key=current.key, number=request.number)])
        return iso

    def _send(
        self, iso: StoredLeg, apdu: APDU, at: datetime
    ) -> tuple[StoredLeg, tuple[OutboxItem, ...]]:
        moved, items, refusal = self.forward(apdu, iso, at)
        if refusal is not None:
            raise DeskRefused([say("not-now", note=refusal.note or type(apdu).__name__)])
        return moved, items

    def _pending(self, supply: SupplyRequest) -> None:
        if supply.state is not SupplyState.PENDING:
            raise DeskRefused([say("answered-already")])

    def _notice(
        self,
        network: Library,
        request: ReaderRequest,
        outcome: str,
        reasons: Sequence[str],
        at: datetime,
    ) -> OutboxItem:
        message = calis_mail.reader_notice(
            request.form,
            number=request.number,
            library=network.label or network.symbol,
            sender=self.config.mail.address,
            recipient=request.form.email,
            outcome=outcome,
            reasons=reasons,
            total_cost=request.total_cost,
            rush_fee=_rush_fee(network, request),
            payee=_member_label(network, request.member),
            at=at,
            lang="zh",
        )
        purpose = f"{outcome}|{network.name}|{request.number}|{request.rota.attempts}"
        return mail_item(request.form.email, message, purpose)

    @staticmethod
    def _with(leg: StoredLeg, request: ReaderRequest) -> StoredLeg:
        return replace(leg, payload=request)

    def _moved(
        self, leg: StoredLeg, request: ReaderRequest, iso: StoredLeg, items: Sequence[OutboxItem]
    ) -> DeskStep:
        """The step of a request after the desk sent an APDU on its attempt's leg ``iso``."""
        return DeskStep(Change(legs=(self._with(leg, request), iso), outbox=tuple(items)), request)


def _rush_fee(network: Library, request: ReaderRequest) -> Decimal | None:
    """The rush fee the reader of an urgent request pays on top, from the configuration."""
    return rush_fee(network, request.member) if request.form.urgency is Urgency.URGENT else None


def _span(seconds: float) -> Said:
    """A configured wait in words, Chinese and English, in the largest unit it has whole
    (3 天, 2 小时): a deadline of seconds, as tests set, must not read 1.2e-05 天."""
    for size, zh, en in ((86400, "天", "days"), (3600, "小时", "hours"), (60, "分钟", "minutes")):
        if seconds >= size:
            count = f"{seconds / size:g}"
            return Said(f"{count} {zh}", zh=f"{count} {zh}", en=f"{count} {en}")
    return Said(f"{seconds:g} 秒", zh=f"{seconds:g} 秒", en=f"{seconds:g} seconds")


def _refused(text: Said, note: str | None) -> Said:
    """A refusal in words, with the relay's own note (English, for staff) when it has one."""
    if not note:
        return text
    return Said(str(text), zh=text.langs["zh"], en=f"{text.langs['en']}: {note}")


def _waiting(rota: Rota, deadline: datetime | None) -> Rota:
    """The rota with the supplier asked now given until ``deadline`` (None: no deadline,
    while someone else is to act)."""
    assert rota.current is not None
    return replace(rota, current=replace(rota.current, deadline=deadline))


def _answered_supply(
    leg: StoredLeg,
    apdu: APDU,
    iso: StoredLeg,
    items: Sequence[OutboxItem],
    supply: SupplyRequest,
    at: datetime,
) -> DeskStep:
    """The step of a request to supply after staff sent ``apdu`` (the ISO leg ``iso``)."""
    mirrored = replace(_mirror_send(leg, apdu, at), payload=supply)
    return DeskStep(Change(legs=(mirrored, iso), outbox=tuple(items)), supply)


def _joined(change: Change, legs: Sequence[StoredLeg], items: Sequence[OutboxItem]) -> Change:
    """A step's change with the legs and outbox items of what was done before it."""
    return Change(legs=(*change.legs, *legs), log=change.log, outbox=(*items, *change.outbox))


def _member_label(network: Library, symbol: str) -> str:
    """The name of the member library ``symbol`` of a CALIS centre (empty: none, or not a
    member): whom its readers pay, in central mode, rather than the centre."""
    found = next((m for m in network.members if symbol and m.symbol == symbol), None)
    return "" if found is None else found.label or found.symbol


def _ccc_note(network: Library, form: ReaderForm) -> str | None:
    """:data:`CCC_NOTE` on a request the CALIS centre sends for a document found in CCC,
    which the form knows by the CALIS OID of CCC's record (central mode: the centre is the
    requester of the CCC's members' requests); else no note of the centre's own."""
    return CCC_NOTE if network.mode == "central" and form.calis_oid else None


def _reader(leg: StoredLeg) -> ReaderRequest:
    if not isinstance(leg.payload, ReaderRequest):
        raise KeyError(leg.key)
    return leg.payload


def _ends(apdu: APDU) -> bool:
    """An answer that ends a supplier's transaction without supplying."""
    if isinstance(apdu, Expired):
        return True
    return isinstance(apdu, ILLAnswer) and apdu.transaction_results in (
        TransactionResults.UNFILLED,
        TransactionResults.RETRY,
        TransactionResults.LOCATIONS_PROVIDED,
        TransactionResults.ESTIMATE,
    )


def _supply(leg: StoredLeg) -> SupplyRequest:
    if not isinstance(leg.payload, SupplyRequest):
        raise KeyError(leg.key)
    return leg.payload


def _local_id(network: Library, number: int) -> TransactionId:
    """The id the reader's request is known by before (and besides) its attempts."""
    return TransactionId(
        initial_requester_id=SystemId.institution(network.symbol),
        transaction_group_qualifier=str(number),
        transaction_qualifier=str(number),
    )


def _cost_limit(request: ILLRequest | None) -> Decimal | None:
    """The most the requester's reader pays, in yuan, when the request says (a limit in
    another currency is not one the reader set, and is left to staff)."""
    cost = None if request is None else request.cost_info_type
    amount = None if cost is None else cost.maximum_cost
    if amount is None or (amount.currency_code or "CNY").upper() not in ("CNY", "RMB"):
        return None
    return amount.monetary_value


def _received(txn: Transaction, shipped: Sequence[Shipped], at: datetime) -> Received:
    service = shipped[-1].shipped_service_type if shipped else ILLServiceType.COPY_NON_RETURNABLE
    return Received(**common_fields(txn, at), date_received=at.date(), shipped_service_type=service)


def _mirror_send(leg: StoredLeg, apdu: APDU, at: datetime) -> StoredLeg:
    """The library's own leg after the library sent ``apdu``: it follows the ISO leg, which
    has already checked the transition."""
    try:
        return replace(leg, transaction=machine.send(leg.transaction, apdu, at=at))
    except ProhibitedTransition:
        return leg


def _load_holdings(config: Config) -> dict[str, Holdings]:
    return {n.name: Holdings.load(n.holdings) for n in libraries(config) if n.holdings}
