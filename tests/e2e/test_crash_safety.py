"""Short version of the crash-safety run (scripts/crash-test runs the long one)."""
from crash_safety import run


def test_kill_9_while_sending_loses_nothing(sealpost, postfix_peers):
    figures = run(sealpost, postfix_peers, kills=3, duration_between=1.5)
    print(figures)
    assert figures["accepted"] > 20
    assert figures["lost"] == 0, figures
    assert figures["delivered_event_but_no_mail"] == 0, figures
    assert figures["delivered"] + figures["bounced"] == figures["accepted"], figures
