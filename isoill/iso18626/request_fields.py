"""ILL-Request <-> ``request``: the item, the service, delivery, billing and the patron.

Field by field (the table in docs/iso18626-mapping.md says what each side loses):

* item-id -> bibliographicInfo (title, author, sub-title, series, edition, article title
  and author, volume-issue, pagination, sponsoring body, verification source; ISBN and
  ISSN as bibliographicItemId) and publicationInfo (publisher, place, date; item-type as
  publicationType Book/Journal/Other); call-number -> supplierInfo.callNumber.
* iLL-service-type: loan and copy-non-returnable both offered -> CopyOrLoan, else the one
  offered; a request for only locations or an estimate has no 18626 service and is refused.
  retry-flag -> requestType Retry; search-type -> serviceLevel and needBeforeDate;
  copyright-compliance and requester-note -> serviceInfo.
* delivery-address -> requestedDeliveryInfo (postal first, then electronic);
  billing-address and cost-info-type's maximum-cost -> billingInfo, account-number ->
  requestingAgencyAuthentication.accountId; client-id -> patronInfo.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import tzinfo

from isoill.apdu.apdus import ILLRequest
from isoill.apdu.enums import ILLServiceType, ItemType
from isoill.apdu.types import (
    Amount,
    ClientId,
    CostInfoType,
    DeliveryAddress,
    InstitutionName,
    ItemId,
    PostalAddress,
    SearchType,
    SystemAddress,
)
from isoill.iso18626 import identity
from isoill.iso18626.codemap import kept, note, reverse
from isoill.iso18626.codes import CURRENCY_SCHEME, RequestType, ServiceType
from isoill.iso18626.identity import MappingError
from isoill.iso18626.messages import (
    Address,
    BibliographicInfo,
    BibliographicItemId,
    BillingInfo,
    Costs,
    ElectronicAddress,
    PatronInfo,
    PhysicalAddress,
    PublicationInfo,
    Request,
    RequestedDeliveryInfo,
    RequestingAgencyAuthentication,
    RequestingAgencyInfo,
    SchemeValue,
    ServiceInfo,
    SupplierInfo,
)

#: item-id <-> bibliographicInfo, the fields that are text on both sides.
BIBLIOGRAPHIC = {
    "title": "title",
    "author": "author",
    "sub_title": "subtitle",
    "series_title_number": "series_title",
    "edition": "edition",
    "title_of_article": "title_of_component",
    "author_of_article": "author_of_component",
    "volume_issue": "volume",
    "pagination": "pages_requested",
    "sponsoring_body": "sponsor",
    "verification_reference_source": "information_source",
}
PUBLICATION = {
    "publisher": "publisher",
    "place_of_publication": "place_of_publication",
    "publication_date": "publication_date",
}
PUBLICATION_TYPES = {
    ItemType.MONOGRAPH: "Book",
    ItemType.SERIAL: "Journal",
    ItemType.OTHER: "Other",
}
#: The code of an item id 10161 holds only as text (additional-no-letters).
OTHER_NUMBER = "Other"
NUMBER_SIZES = {"ISBN": 10, "ISSN": 8}
#: ISO 4217's code for "no currency": a 10161 amount may have none, an 18626 one may not.
NO_CURRENCY = "XXX"


def request(apdu: ILLRequest, zone: tzinfo) -> Request:
    """The ``request`` an ILL-Request becomes."""
    head = identity.header(apdu, zone)
    cost = apdu.cost_info_type
    if cost is not None and cost.account_number:
        head = replace(
            head,
            requesting_agency_authentication=RequestingAgencyAuthentication(cost.account_number),
        )
    item = apdu.item_id
    requester_name = apdu.requester_id.name if apdu.requester_id else None
    return Request(
        header=head,
        bibliographic_info=_bibliographic(item),
        publication_info=_publication(item),
        service_info=_service(apdu, zone),
        supplier_info=(SupplierInfo(call_number=item.call_number),) if item.call_number else (),
        requested_delivery_info=_delivery(apdu.delivery_address),
        requesting_agency_info=RequestingAgencyInfo(name=requester_name)
        if requester_name
        else None,
        patron_info=_patron(apdu.client_id),
        billing_info=_billing(apdu),
    )


def ill_request(message: Request, zone: tzinfo) -> ILLRequest:
    """The ILL-Request a ``request`` becomes."""
    base = identity.apdu_base(message.header, zone)
    if message.requesting_agency_info and message.requesting_agency_info.name:
        base["requester_id"] = identity.system_id(
            message.header.requesting_agency_id, message.requesting_agency_info.name
        )
    service = message.service_info
    return ILLRequest(
        **base,
        item_id=_item(message),
        ill_service_type=_service_types(service.service_type if service else ServiceType.LOAN),
        delivery_address=_delivery_address(message.requested_delivery_info),
        billing_address=_billing_address(message.billing_info),
        search_type=_search_type(service, zone),
        client_id=_client(message.patron_info),
        cost_info_type=_cost_info(message),
        copyright_compliance=service.copyright_compliance.value
        if service and service.copyright_compliance
        else None,
        retry_flag=service is not None and service.request_type == RequestType.RETRY,
        requester_note=_requester_note(service),
    )


# --- ILL-Request -> request -----------------------------------------------------------------


def _bibliographic(item: ItemId) -> BibliographicInfo:
    ids = tuple(
        BibliographicItemId(number, SchemeValue(code))
        for code, number in (
            ("ISBN", item.isbn),
            ("ISSN", item.issn),
            (OTHER_NUMBER, item.additional_no_letters),
        )
        if number
    )
    fields = {ours: getattr(item, theirs) for theirs, ours in BIBLIOGRAPHIC.items()}
    return BibliographicInfo(**fields, bibliographic_item_id=ids)


def _publication(item: ItemId) -> PublicationInfo | None:
    kind = PUBLICATION_TYPES.get(item.item_type) if item.item_type else None
    fields = {ours: getattr(item, theirs) for theirs, ours in PUBLICATION.items()}
    if kind is None and not any(fields.values()):
        return None
    return PublicationInfo(**fields, publication_type=SchemeValue(kind) if kind else None)


def _service(apdu: ILLRequest, zone: tzinfo) -> ServiceInfo:
    offered = set(apdu.ill_service_type)
    loan = ILLServiceType.LOAN in offered
    copy = ILLServiceType.COPY_NON_RETURNABLE in offered
    if not loan and not copy:
        raise MappingError(
            "iLL-service-type: ISO 18626 serves loans and copies only "
            f"(got {', '.join(s.name.lower() for s in apdu.ill_service_type)})"
        )
    search = apdu.search_type
    level = search.level_of_service if search else None
    return ServiceInfo(
        service_type=ServiceType.COPY_OR_LOAN
        if loan and copy
        else ServiceType.LOAN
        if loan
        else ServiceType.COPY,
        request_type=RequestType.RETRY if apdu.retry_flag else RequestType.NEW,
        service_level=SchemeValue(level) if level else None,
        need_before_date=identity.moment(search.need_before_date, zone) if search else None,
        copyright_compliance=SchemeValue(apdu.copyright_compliance)
        if apdu.copyright_compliance
        else None,
        note=apdu.requester_note,
    )


def _delivery(address: DeliveryAddress | None) -> tuple[RequestedDeliveryInfo, ...]:
    found = _addresses(address)
    return tuple(RequestedDeliveryInfo(sort_order=n, address=a) for n, a in enumerate(found, 1))


def _addresses(address: DeliveryAddress | None) -> list[Address]:
    if address is None:
        return []
    found = []
    if address.postal_address is not None:
        found.append(Address(physical_address=_physical(address.postal_address)))
    electronic = address.electronic_address
    if electronic is not None and electronic.telecom_service_address:
        found.append(
            Address(
                electronic_address=ElectronicAddress(
                    SchemeValue(electronic.telecom_service_identifier or "Other"),
                    electronic.telecom_service_address,
                )
            )
        )
    return found


def _physical(postal: PostalAddress) -> PhysicalAddress:
    return PhysicalAddress(
        line1=postal.street_and_number,
        line2=postal.extended_postal_delivery_address or postal.post_office_box,
        locality=postal.city,
        postal_code=postal.postal_code,
        region=SchemeValue(postal.region) if postal.region else None,
        country=SchemeValue(postal.country) if postal.country else None,
    )


def _patron(client: ClientId | None) -> PatronInfo | None:
    if client is None or not any(
        (client.client_identifier, client.client_name, client.client_status)
    ):
        return None
    return PatronInfo(
        patron_id=client.client_identifier,
        surname=client.client_name,
        patron_type=SchemeValue(client.client_status) if client.client_status else None,
    )


def _billing(apdu: ILLRequest) -> BillingInfo | None:
    addresses = _addresses(apdu.billing_address)
    postal = apdu.billing_address.postal_address if apdu.billing_address else None
    name = (
        postal.name_of_person_or_institution.value
        if postal and postal.name_of_person_or_institution
        else None
    )
    maximum = apdu.cost_info_type.maximum_cost if apdu.cost_info_type else None
    if not addresses and maximum is None:
        return None
    return BillingInfo(
        maximum_costs=costs(maximum) if maximum else None,
        billing_name=name,
        address=addresses[0] if addresses else None,
    )


def costs(amount: Amount) -> Costs:
    """An 10161 amount as 18626 costs (an amount without currency says XXX)."""
    return Costs(
        SchemeValue(amount.currency_code or NO_CURRENCY, CURRENCY_SCHEME), amount.monetary_value
    )


# --- request -> ILL-Request -----------------------------------------------------------------


def amount(money: Costs | None) -> Amount | None:
    """18626 costs as a 10161 amount; None when 10161 cannot write the value (negative, or
    more than ten characters). A currency code that is not three letters is left out."""
    if money is None:
        return None
    try:
        Amount.format_monetary_value(money.monetary_value)
    except ValueError:
        return None
    code = money.currency_code.value
    known = len(code) == 3 and code.isascii() and code.isalpha() and code != NO_CURRENCY
    return Amount(monetary_value=money.monetary_value, currency_code=code if known else None)


def _item(message: Request) -> ItemId:
    bib = message.bibliographic_info
    fields = {theirs: getattr(bib, ours) for theirs, ours in BIBLIOGRAPHIC.items()}
    numbers, others = _numbers(bib)
    pub = message.publication_info
    if pub is not None:
        fields |= {theirs: getattr(pub, ours) for theirs, ours in PUBLICATION.items()}
    kind = pub.publication_type.value if pub and pub.publication_type else None
    calls = [s.call_number for s in message.supplier_info if s.call_number]
    return ItemId(
        **fields,
        item_type=reverse(PUBLICATION_TYPES).get(kind) if kind else None,
        isbn=numbers.get("ISBN"),
        issn=numbers.get("ISSN"),
        additional_no_letters="; ".join(others) or None,
        call_number=calls[0] if calls else None,
    )


def _numbers(bib: BibliographicInfo) -> tuple[dict[str, str], list[str]]:
    """The ISBN and ISSN that fit 10161's fields (10 and 8 characters once hyphens and
    spaces are gone, as item-id wants them), and every other item id as text for
    additional-no-letters ("CODE value", or the value alone for ``Other``)."""
    numbers: dict[str, str] = {}
    others: list[str] = []
    for item in bib.bibliographic_item_id:
        code = item.bibliographic_item_identifier_code.value
        value = item.bibliographic_item_identifier
        compact = value.replace("-", "").replace(" ", "")
        if len(compact) == NUMBER_SIZES.get(code.upper()) and code.upper() not in numbers:
            numbers[code.upper()] = compact
        elif value.strip():
            others.append(value if code == OTHER_NUMBER else f"{code} {value}")
    return numbers, others


def _service_types(kind: ServiceType) -> tuple[ILLServiceType, ...]:
    if kind == ServiceType.COPY_OR_LOAN:
        return (ILLServiceType.LOAN, ILLServiceType.COPY_NON_RETURNABLE)
    return (
        (ILLServiceType.COPY_NON_RETURNABLE,)
        if kind == ServiceType.COPY
        else (ILLServiceType.LOAN,)
    )


def _search_type(service: ServiceInfo | None, zone: tzinfo) -> SearchType | None:
    level = _level(service)
    if service is None or (level is None and service.need_before_date is None):
        return None
    return SearchType(
        level_of_service=level, need_before_date=identity.day(service.need_before_date, zone)
    )


def _level(service: ServiceInfo | None) -> str | None:
    """10161's level-of-service is one character: a longer serviceLevel goes to the note."""
    level = service.service_level if service else None
    return level.value if level and len(level.value) == 1 else None


def _requester_note(service: ServiceInfo | None) -> str | None:
    if service is None:
        return None
    level = service.service_level if _level(service) is None else None
    return note(service.note, kept("serviceLevel", level, ()))


def _delivery_address(infos: tuple[RequestedDeliveryInfo, ...]) -> DeliveryAddress | None:
    ordered = sorted(infos, key=lambda info: info.sort_order or 0)
    return _delivery_of([info.address for info in ordered if info.address is not None])


def _delivery_of(addresses: list[Address], name: str | None = None) -> DeliveryAddress | None:
    postal = next((a.physical_address for a in addresses if a.physical_address), None)
    electronic = next((a.electronic_address for a in addresses if a.electronic_address), None)
    if postal is None and electronic is None:
        return None
    return DeliveryAddress(
        postal_address=_postal(postal, name) if postal else None,
        electronic_address=SystemAddress(
            telecom_service_identifier=electronic.electronic_address_type.value,
            telecom_service_address=electronic.electronic_address_data,
        )
        if electronic
        else None,
    )


def _postal(address: PhysicalAddress, name: str | None) -> PostalAddress:
    return PostalAddress(
        name_of_person_or_institution=InstitutionName(name) if name else None,
        street_and_number=address.line1,
        extended_postal_delivery_address=address.line2,
        city=address.locality,
        postal_code=address.postal_code,
        region=address.region.value if address.region else None,
        country=address.country.value if address.country else None,
    )


def _billing_address(billing: BillingInfo | None) -> DeliveryAddress | None:
    if billing is None or billing.address is None:
        return None
    return _delivery_of([billing.address], billing.billing_name)


def _client(patron: PatronInfo | None) -> ClientId | None:
    if patron is None:
        return None
    name = " ".join(part for part in (patron.given_name, patron.surname) if part) or None
    status = patron.patron_type.value if patron.patron_type else None
    if not any((name, status, patron.patron_id)):
        return None
    return ClientId(client_name=name, client_status=status, client_identifier=patron.patron_id)


def _cost_info(message: Request) -> CostInfoType | None:
    auth = message.header.requesting_agency_authentication
    account = auth.account_id if auth else None
    billing = message.billing_info
    maximum = billing.maximum_costs if billing else None
    if account is None and maximum is None:
        return None
    return CostInfoType(account_number=account, maximum_cost=amount(maximum))
