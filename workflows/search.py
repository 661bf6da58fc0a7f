"""Typed search attributes, so operators find workflows from the Temporal UI or CLI:

    temporal workflow list --query "WwcTier = 'gold'"
    temporal workflow list --query "WwcStatus = 'renewal_due' AND WwcCountry = 'US'"
    temporal workflow list --query "WwcExpiresOn < '2027-01-01T00:00:00Z'"

They must be registered on the namespace first (the embedded dev server does it at start;
see README for a real cluster)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from domain.city_state import CityState

KIND = SearchAttributeKey.for_keyword("WwcKind")
CITY_NAME = SearchAttributeKey.for_keyword("WwcCityName")
COUNTRY = SearchAttributeKey.for_keyword("WwcCountry")
STATUS = SearchAttributeKey.for_keyword("WwcStatus")
TIER = SearchAttributeKey.for_keyword("WwcTier")
STANDARD = SearchAttributeKey.for_keyword("WwcStandard")
COHORT = SearchAttributeKey.for_keyword("WwcCohort")
EXPIRES_ON = SearchAttributeKey.for_datetime("WwcExpiresOn")

ALL_KEYS: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    KIND, CITY_NAME, COUNTRY, STATUS, TIER, STANDARD, COHORT, EXPIRES_ON)


class CitySearchAttributes:
    """Upserts only what changed, so history gains a command only when a value moves."""

    def __init__(self) -> None:
        self._last: dict[str, object] = {}

    def update(self, state: CityState) -> None:
        profile, cert, app = state.profile, state.certification, state.application
        values: dict[str, object] = {
            KIND.name: "city",
            CITY_NAME.name: profile.name if profile else None,
            COUNTRY.name: profile.country if profile else None,
            STATUS.name: state.status.value,
            TIER.name: state.tier.value,
            STANDARD.name: app.standard_id if app else (cert.standard_id if cert else None),
            COHORT.name: cert.cohort_id if cert else None,
            EXPIRES_ON.name: (datetime.combine(cert.expires_on, time(), tzinfo=UTC)
                              if cert else None),
        }
        changed = {k: v for k, v in values.items() if self._last.get(k, "<unset>") != v}
        if not changed:
            return
        workflow.upsert_search_attributes([
            key.value_unset() if changed[key.name] is None
            else key.value_set(changed[key.name])
            for key in ALL_KEYS if key.name in changed
        ])
        self._last.update(changed)
