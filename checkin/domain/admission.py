"""Pure admission rules: screen one reading against a site's policy, no database, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from functools import lru_cache

# Temperatures are handled in tenths of a degree (deci-Celsius) so that 37.3 compares exactly.
PLAUSIBLE_MIN_DC = 340
PLAUSIBLE_MAX_DC = 420
DEFAULT_FEVER_CUTOFF_DC = 373
# The cut-offs health guidance uses: 37.3 °C (Indonesia's Ministry of Health) up to 38.0 (WHO);
# 37.0 is still usual for offices that screen more strictly. The settings warning names this range.
USUAL_CUTOFF_MIN_DC = 370
USUAL_CUTOFF_MAX_DC = 380
DEFAULT_RETEST_MINUTES = 5
# A visitor asked to rest who is not back this long after the first reading may be recorded as
# gone, so that door staff stop waiting for them.
LEFT_AFTER_MINUTES = 30
# A visitor rests at least a minute; longer than half an hour, they would rather go home.
MIN_RETEST_MINUTES = 1
MAX_RETEST_MINUTES = 30
DEFAULT_DAILY_QUOTA = 60

ADMITTED = "admitted"
REFUSED = "refused"
RETEST = "recheck"  # the status a visit stores: the word rows have held from the start
STATUSES = (ADMITTED, REFUSED, RETEST)

FEVER = "fever"
NO_HAND_SANITISER = "no_hand_sanitiser"
NO_MASK = "no_mask"
NO_DISTANCING = "no_distancing"
QUOTA_FULL = "quota_full"
# Offline, with every slot the tablet holds given out: no admission on hope.
NO_OFFLINE_SLOT = "no_offline_slot"
# The office calendar closes the day: no slot is offered at all.
CLOSED = "closed"
REASONS = (
    FEVER,
    NO_HAND_SANITISER,
    NO_MASK,
    NO_DISTANCING,
    QUOTA_FULL,
    NO_OFFLINE_SLOT,
    CLOSED,
)

# Refused for one of these, the visitor cannot come in today: the door offers the online
# service instead. A first high reading (a re-test, reason fever too) is not one of them.
ONLINE_SERVICE_REASONS = (FEVER, QUOTA_FULL, NO_OFFLINE_SLOT, CLOSED)

PURPOSES = ("jht_claim", "jkk_claim", "jkm_claim", "jp_claim", "jkp_claim", "enquiry", "other")


class ImplausibleTemperature(ValueError):
    """A reading outside the thermometer's plausible range: an instrument error, not a fever."""


def to_decicelsius(value: float | str | Decimal) -> int:
    """Round a Celsius reading half-up to one decimal and return it in tenths of a degree."""
    try:
        tenths = (Decimal(str(value)) * 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except DecimalException as exc:  # not a number, or too large to compute with (1e999999999)
        raise ImplausibleTemperature(f"{value!r} is not a number") from exc
    if not tenths.is_finite():
        raise ImplausibleTemperature(f"{value!r} is not a number")
    return int(tenths)


def unusual_cutoff(cutoff_dc: int) -> str | None:
    """Return "low" or "high" for a fever cut-off outside the usual 37.0-38.0 °C, else None."""
    if cutoff_dc < USUAL_CUTOFF_MIN_DC:
        return "low"
    if cutoff_dc > USUAL_CUTOFF_MAX_DC:
        return "high"
    return None


def check_plausible(temperature_dc: int) -> None:
    """Raise ImplausibleTemperature unless the reading lies within 34.0-42.0 °C."""
    if not PLAUSIBLE_MIN_DC <= temperature_dc <= PLAUSIBLE_MAX_DC:
        raise ImplausibleTemperature(
            f"{temperature_dc / 10:.1f} °C is outside 34.0-42.0 °C: re-measure, "
            "the thermometer is probably misread"
        )


@dataclass(frozen=True)
class Policy:
    """The admission settings of one site."""

    fever_cutoff_dc: int = DEFAULT_FEVER_CUTOFF_DC


@dataclass(frozen=True)
class Reading:
    """What door staff measured and ticked for one visitor."""

    temperature_dc: int
    hand_sanitiser: bool
    mask: bool
    distancing: bool
    is_retest: bool = False


@dataclass(frozen=True)
class Screening:
    """The protocol verdict before the quota is consulted."""

    status: str
    reasons: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Tell whether the visitor may take a slot if one is left."""
        return self.status == ADMITTED


@dataclass(frozen=True)
class Check:
    """One rule of the protocol: the reason it refuses for, and the reading field it looks at.

    A temperature fails at or above ``at_least_dc``; a tick fails when it is not ticked.
    """

    reason: str
    field: str
    at_least_dc: int | None = None

    def fails(self, reading: Reading) -> bool:
        """Tell whether ``reading`` fails this check."""
        value = getattr(reading, self.field)
        return value >= self.at_least_dc if self.at_least_dc is not None else not value


@lru_cache(maxsize=64)
def checks(policy: Policy) -> tuple[Check, ...]:
    """Return the protocol's checks in the order a refusal lists its reasons.

    Door tablets get this table with their lease and decide offline by it, so the server and
    the tablet apply one set of rules (tests/browser/test_offline_door_browser.py).
    """
    return (
        Check(FEVER, "temperature_dc", policy.fever_cutoff_dc),
        Check(NO_HAND_SANITISER, "hand_sanitiser"),
        Check(NO_MASK, "mask"),
        Check(NO_DISTANCING, "distancing"),
    )


# A first reading failing only these asks the visitor to rest and be measured again.
RETEST_WHEN_ONLY = (FEVER,)


def screen(reading: Reading, policy: Policy) -> Screening:
    """Screen a reading: every failing reason listed; a first high reading asks for a re-test."""
    check_plausible(reading.temperature_dc)
    reasons = tuple(check.reason for check in checks(policy) if check.fails(reading))
    if not reasons:
        return Screening(ADMITTED, ())
    if reasons == RETEST_WHEN_ONLY and not reading.is_retest:
        return Screening(RETEST, reasons)
    return Screening(REFUSED, reasons)


def quota_refusal() -> Screening:
    """Return the verdict for a visitor who passed the protocol when no slot is left."""
    return Screening(REFUSED, (QUOTA_FULL,))


def closed_refusal() -> Screening:
    """Return the verdict for a visitor who passed the protocol on a day the office is closed."""
    return Screening(REFUSED, (CLOSED,))


def offline_refusal() -> Screening:
    """Return the verdict for a visitor who passed offline on a tablet holding no slot."""
    return Screening(REFUSED, (NO_OFFLINE_SLOT,))
