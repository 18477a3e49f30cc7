"""The GIF business rules N-1 ... N-40 (ill-systems.md §1.6) and where isoill implements each.

Each rule is a check, a mapping step, or a documented non-goal (a judgement only staff can
make, or something that happens on OCLC's side). ``docs/gif-rules.md`` is generated from this
table by ``python -m isoill.mapping.gif_rules``, and a test checks that every function and
test named here exists, so the document cannot promise what the code does not do.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ORDER = "tests/mapping/test_order.py::"
RECEIVE = "tests/mapping/test_receive.py::"
COMMANDS = "tests/mapping/test_commands.py::"


@dataclass(frozen=True)
class Rule:
    id: str
    says: str
    kind: str  # "check", "mapping" or "non-goal"
    by: str  # a dotted function name, or why it is a non-goal
    test: str = ""  # tests/file.py::test_name


RULES = (
    Rule("N-1", "only listed North American GIF libraries; check holdings", "non-goal",
         "WorldCat, OPAC and the NCC participant list are read by staff; the directory "
         "(isoill.mapping.directory) maps the symbols they chose"),
    Rule("N-2", "check the lender's lending policy", "check",
         "isoill.mapping.policy.read_policies", RECEIVE + "test_the_policy_table"),
    Rule("N-3", "expect USD 12-20 per item", "non-goal", "advisory price model; the RECEIVE "
         "checks compare the actual fee with the policy (N-15)"),
    Rule("N-4", "copy requests state copyright compliance CCG or CCL", "check",
         "isoill.mapping.to_iso.order_request", ORDER + "test_each_rule_refuses_with_its_reason"),
    Rule("N-5", "SPVIA required; Ariel needs NOTE=ARIEL=", "mapping",
         "isoill.mapping.to_iso.order_request", ORDER + "test_physical_shipping_methods"),
    Rule("N-6", "CMMNT has MAX-COST and PAYMENT=IFM", "check",
         "isoill.mapping.to_iso.order_request", ORDER + "test_each_rule_refuses_with_its_reason"),
    Rule("N-7", "ARTCL required for a copy (else OCLC makes it a loan)", "check",
         "isoill.mapping.to_iso.order_request", ORDER + "test_each_rule_refuses_with_its_reason"),
    Rule("N-8", "only TYPE and SPVIA may hold Japanese", "check",
         "isoill.mapping.record.single_byte_problems",
         "tests/mapping/test_record.py::test_single_byte_rule_names_the_field"),
    Rule("N-9", "some items are hard to get", "non-goal", "advisory for staff"),
    Rule("N-10", "CALLBACK only before the batch", "check",
         "isoill.mapping.commands.Leg.command",
         COMMANDS + "test_a_command_the_iso_state_forbids_is_refused_before_sending"),
    Rule("N-11", "record ID + holding code + date form the ISO id; duplicates fail",
         "mapping", "isoill.mapping.to_iso.order_request",
         ORDER + "test_transaction_id_is_record_id_lender_and_order_date"),
    Rule("N-12", "OCLC forwards after 8 days", "non-goal", "OCLC's behaviour; the protocol "
         "machine takes the Forward-Notification (isoill.machine.receive)"),
    Rule("N-13", "verify the item is the one requested", "non-goal", "staff look at it"),
    Rule("N-14", "total <= MAX-COST", "check", "isoill.mapping.receive_guard.check_receive",
         RECEIVE + "test_over_max_cost_keeps_the_record_shipped_with_the_n23_action"),
    Rule("N-15", "amount matches the lending policy", "check",
         "isoill.mapping.receive_guard.check_receive",
         RECEIVE + "test_a_fee_other_than_the_policys_is_refused_with_the_n24_action"),
    Rule("N-16", "the Shipped line shows PAYMENT=IFM", "check",
         "isoill.mapping.receive_guard.check_receive",
         RECEIVE + "test_missing_payment_ifm_is_refused_with_the_n22_action"),
    Rule("N-17", "RECEIVE makes the request billable", "check",
         "isoill.mapping.commands.Leg.command",
         COMMANDS + "test_receive_is_guarded_and_sends_received_for_a_copy"),
    Rule("N-18", "in doubt, do not RECEIVE", "check",
         "isoill.mapping.receive_guard.check_receive",
         RECEIVE + "test_every_failing_reason_is_listed_at_once"),
    Rule("N-19", "amounts in USD; yen on the Kinokuniya invoice", "non-goal", "invoicing"),
    Rule("N-20", "contact address from ILL-Commun1/2", "mapping",
         "isoill.mapping.policy.read_policies", RECEIVE + "test_the_policy_table"),
    Rule("N-21", "not arrived / wrong copy / by mistake: e-mail", "check",
         "isoill.mapping.receive_guard.not_received", RECEIVE + "test_not_received"),
    Rule("N-22", "no PAYMENT=IFM: keep, e-mail, dummy; free-item exception", "check",
         "isoill.mapping.receive_guard.check_receive",
         RECEIVE + "test_a_free_copy_needs_no_ifm_when_the_policy_says_it_is_free"),
    Rule("N-23", "SUM > MAX-COST: keep SHIPPED, dummy A or B", "check",
         "isoill.mapping.receive_guard.dummy_record",
         RECEIVE + "test_variant_a_raises_max_cost_on_the_dummy"),
    Rule("N-24", "fee differs from the policy", "check",
         "isoill.mapping.receive_guard.check_receive",
         RECEIVE + "test_already_received_with_ifm_and_a_wrong_fee_is_urgent"),
    Rule("N-25", "a physical item sent for a copy", "mapping",
         "isoill.mapping.from_oclc.apply_incoming",
         RECEIVE + "test_physical_item_shipped_as_a_loan_follows_the_loan_path"),
    Rule("N-26", "copy arrived but the record was refused", "check",
         "isoill.mapping.receive_guard.rejected_after_shipping",
         RECEIVE + "test_rejected_after_shipping_names_the_reason_and_the_dummy"),
    Rule("N-27", "copy arrived, record still in process", "check",
         "isoill.mapping.receive_guard.stuck_in_processing",
         RECEIVE + "test_stuck_in_processing_asks_nii_first"),
    Rule("N-28", "the dummy record", "mapping", "isoill.mapping.receive_guard.dummy_record",
         RECEIVE + "test_the_dummy_record_and_the_original_marked_for_cancel"),
    Rule("N-29", "the OCLC ILL number has 8 digits", "check",
         "isoill.mapping.receive_guard.dummy_record",
         RECEIVE + "test_the_dummy_needs_an_eight_digit_oclc_ill_number"),
    Rule("N-30", "transfer errors come back as new inquiries", "check",
         "isoill.mapping.commands.Leg.command",
         COMMANDS + "test_a_command_the_iso_state_forbids_is_refused_before_sending"),
    Rule("N-31", "BORROW sends Received; no correction after", "check",
         "isoill.mapping.receive_guard.check_receive",
         RECEIVE + "test_a_loan_is_checked_before_borrow"),
    Rule("N-32", "a loan is shipped with its due date", "check",
         "isoill.mapping.commands.Leg.command",
         COMMANDS + "test_lender_send_needs_payment_ifm_and_pardon_answers_a_cancel"),
    Rule("N-33", "loan postage through IFM", "non-goal", "advisory for staff"),
    Rule("N-34", "returned loan stuck: ask for Checked-In", "non-goal",
         "staff write to the lender; the letter templates of isoill.mapping.receive_guard "
         "serve the other cases"),
    Rule("N-35", "act before EXPIRY-DATE", "mapping", "isoill.mapping.cmmnt.read",
         "tests/mapping/test_record.py::test_every_token_round_trips"),
    Rule("N-36", "SEND needs PAYMENT=IFM; INQUIRE/PARDON need CODE= or NOTE=", "check",
         "isoill.mapping.commands.Leg.command",
         COMMANDS + "test_lender_send_needs_payment_ifm_and_pardon_answers_a_cancel"),
    Rule("N-37", "answer an OCLC Cancel with PARDON", "mapping",
         "isoill.mapping.commands.Leg.command",
         COMMANDS + "test_lender_send_needs_payment_ifm_and_pardon_answers_a_cancel"),
    Rule("N-38", "a Not Received message", "mapping", "isoill.mapping.from_oclc.apply_incoming",
         RECEIVE + "test_incoming_apdu"),
    Rule("N-39", "copies stuck at SHIPPED for 10 days", "non-goal",
         "reported by staff to the GIF team"),
    Rule("N-40", "settlement needs the final state", "mapping",
         "isoill.mapping.commands.Leg.command",
         COMMANDS + "test_receive_is_guarded_and_sends_received_for_a_copy"),
)  # fmt: skip


def render() -> str:
    lines = [
        "*Generated by `python -m isoill.mapping.gif_rules` from `isoill/mapping/gif_rules.py`;"
        " do not edit by hand.*",
        "",
        "# The GIF rules and where isoill implements them",
        "",
        "The rules of NII's Global ILL guide (numbered N-1 ... N-40 in the project's fact sheet)"
        " as checks, mapping steps, or documented non-goals.",
        "",
        "| rule | what it says | kind | implemented by | proven by |",
        "|---|---|---|---|---|",
    ]
    for rule in RULES:
        by = f"`{rule.by}`" if rule.kind != "non-goal" else rule.by
        test = f"`{rule.test}`" if rule.test else ""
        lines.append(f"| {rule.id} | {rule.says} | {rule.kind} | {by} | {test} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[-1] if args and not args[-1].startswith("-") else "docs") / "gif-rules.md"
    if "--check" in args:
        if not target.exists() or target.read_text("utf-8") != render():
            print(f"{target} is stale: run python -m isoill.mapping.gif_rules", file=sys.stderr)
            return 1
        return 0
    target.write_text(render(), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
