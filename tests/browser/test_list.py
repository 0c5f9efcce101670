"""The list: search by label, filters, order, and pages, through the filter form and the links,
as a person uses them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests._keyguard_process import KeyguardProcess

from ._support import Spec, Tab, seed_keys

BATCH = [f"Batch {n:02}" for n in range(1, 26)]  # more than the page's 20 rows
OTHERS: list[Spec] = [
    {"label": "Widget live", "access": "publishable", "env": "live"},
    {"label": "Widget test", "access": "publishable"},
    {"label": "Old export", "revoke": True},
]
DEMO_KEYS = ["Demo secret key", "Demo publishable key"]  # the two the demo minted
PAGE_SIZE = 20


@pytest.fixture(scope="module", autouse=True)
def seeded(demo: KeyguardProcess) -> list[str]:
    return seed_keys(demo.cwd, [{"label": label} for label in BATCH] + OTHERS)


def labels(tab: Tab) -> list[str]:
    return tab.page.locator("table.keys tbody tr td:first-child").all_inner_texts()


def apply(tab: Tab, **choices: str) -> None:
    """Choose in the filter form, then press Apply."""
    page = tab.page
    for name, value in choices.items():
        field = page.locator(f"form.filters [name={name}]")
        if name == "q":
            field.fill(value)
        else:
            field.select_option(value)
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()


def test_search_by_label(tab: Tab) -> None:
    tab.go()
    apply(tab, q="widget")
    assert sorted(labels(tab)) == ["Widget live", "Widget test"]
    assert "q=widget" in tab.page.url  # a filtered list is a link to keep
    expect(tab.page.get_by_label("Search by label")).to_have_value("widget")
    apply(tab, q="no key is called this")
    expect(tab.page.locator("td.empty")).to_have_text("No keys match these filters.")


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        ({"status": "revoked"}, ["Old export"]),
        ({"type": "publishable"}, ["Demo publishable key", "Widget live", "Widget test"]),
        ({"environment": "live"}, ["Widget live"]),
        ({"type": "publishable", "environment": "test"}, ["Demo publishable key", "Widget test"]),
        ({"status": "active", "q": "export"}, []),
    ],
)
def test_filters(tab: Tab, choices: dict[str, str], expected: list[str]) -> None:
    tab.go()
    apply(tab, **choices)
    assert sorted(labels(tab)) == (expected or ["No keys match these filters."])
    for name, value in choices.items():  # the form shows what is chosen
        expect(tab.page.locator(f"form.filters [name={name}]")).to_have_value(value)
    badges = tab.page.locator("table.keys .badge").all_inner_texts()
    if choices.get("status") == "revoked":
        assert badges == ["Revoked"]


@pytest.mark.parametrize(
    ("order", "first_page"), [("name", BATCH[:20]), ("-name", BATCH[::-1][:20])]
)
def test_sort_by_label(tab: Tab, order: str, first_page: list[str]) -> None:
    tab.go()
    apply(tab, q="Batch", sort=order)
    assert labels(tab) == first_page
    tab.follow("Next page »")
    assert labels(tab) == sorted(set(BATCH) - set(first_page), reverse=order.startswith("-"))


def walk_pages(tab: Tab) -> list[list[str]]:
    """Every page from the one shown, by "Next page »"; each page's labels."""
    pages = [labels(tab)]
    for _ in range(10):  # bounded: far more pages than there are keys for
        following = tab.page.get_by_role("link", name="Next page »")
        if following.count() == 0:
            return pages
        tab.follow("Next page »")
        expect(tab.page.get_by_role("link", name="« First page")).to_be_visible()
        pages.append(labels(tab))
    raise AssertionError("the pages never ended")


def test_pages_hold_every_key_once(tab: Tab) -> None:
    tab.go()
    pages = walk_pages(tab)
    every = [label for page in pages for label in page]
    assert [len(page) for page in pages] == [PAGE_SIZE, 30 - PAGE_SIZE]
    assert sorted(every) == sorted(BATCH + [str(o["label"]) for o in OTHERS] + DEMO_KEYS)
    tab.follow("« First page")
    assert labels(tab) == pages[0]
    expect(tab.page.get_by_role("link", name="« First page")).to_have_count(0)


def test_pages_keep_the_filters(tab: Tab) -> None:
    tab.go()
    apply(tab, q="Batch", type="secret")
    pages = walk_pages(tab)
    assert "q=Batch" in tab.page.url and "type=secret" in tab.page.url
    every = [label for page in pages for label in page]
    assert sorted(every) == BATCH and len(every) == len(set(every))
    # newest first: seeded in order, so the labels run backwards across the pages
    assert every == BATCH[::-1]
