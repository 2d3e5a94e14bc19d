"""The ids csflow gives an account's long-lived workflows: one journey per account, found again
from the account id alone (signals, updates, campaigns, the nightly health fan-out)."""


def journey_id(account_id: str) -> str:
    return f"journey-{account_id}"
