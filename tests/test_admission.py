"""The pure admission rules, one row per rule."""

from __future__ import annotations

import pytest

from checkin.domain import admission
from checkin.domain.admission import Policy, Reading, Screening, screen


@pytest.mark.parametrize(
    ("celsius", "expected"),
    [(36.6, 366), (37.25, 373), (37.249, 372), (34.0, 340), (42.0, 420), ("37.3", 373)],
)
def test_to_decicelsius_rounds_half_up(celsius, expected):
    assert admission.to_decicelsius(celsius) == expected


@pytest.mark.parametrize("tenths", [339, 421, 0, -50, 999])
def test_implausible_readings_are_instrument_errors(tenths):
    with pytest.raises(admission.ImplausibleTemperature):
        screen(Reading(tenths, True, True, True), Policy())


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (Reading(372, True, True, True), Screening("admitted", ())),
        (Reading(340, True, True, True), Screening("admitted", ())),
        (Reading(373, True, True, True), Screening("recheck", ("fever",))),
        (Reading(420, True, True, True), Screening("recheck", ("fever",))),
        (Reading(373, True, True, True, is_retest=True), Screening("refused", ("fever",))),
        (Reading(372, True, True, True, is_retest=True), Screening("admitted", ())),
        (Reading(365, False, True, True), Screening("refused", ("no_hand_sanitiser",))),
        (Reading(365, True, False, True), Screening("refused", ("no_mask",))),
        (Reading(365, True, True, False), Screening("refused", ("no_distancing",))),
        (
            Reading(365, False, False, False),
            Screening("refused", ("no_hand_sanitiser", "no_mask", "no_distancing")),
        ),
        # A fever with another failure is a refusal at once: no point resting before a re-test.
        (Reading(380, True, False, True), Screening("refused", ("fever", "no_mask"))),
    ],
)
def test_screen(reading, expected):
    assert screen(reading, Policy()) == expected


@pytest.mark.parametrize(
    ("cutoff", "tenths", "status"), [(380, 375, "admitted"), (370, 370, "recheck")]
)
def test_cutoff_is_per_site(cutoff, tenths, status):
    assert screen(Reading(tenths, True, True, True), Policy(cutoff)).status == status


@pytest.mark.parametrize(
    ("cutoff", "unusual"),
    [
        (340, "low"),
        (369, "low"),
        (370, None),
        (373, None),
        (380, None),
        (381, "high"),
        (420, "high"),
    ],
)
def test_a_cutoff_outside_health_guidance_is_unusual(cutoff, unusual):
    assert admission.unusual_cutoff(cutoff) == unusual


def test_quota_refusal_names_the_reason():
    assert admission.quota_refusal() == Screening("refused", ("quota_full",))
