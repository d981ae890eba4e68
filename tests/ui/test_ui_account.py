"""Passwords in the UI: hidden, typed twice, at least 8 characters; "Remember me" keeps the login."""

import time

import pytest
from browser_harness import ADMIN, DESKTOP, PASSWORD, PHONE, WAIT, ConsoleWatch, open_settings

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a new and long password"


def change_own_password(page, new, repeat=None):
    if page.is_hidden("#password-dialog"):
        page.click("#my-password")
        page.wait_for_selector("#password-dialog", state="visible")
    page.fill("#password-new", new)
    page.fill("#password-repeat", new if repeat is None else repeat)
    page.click("#password-ok")


def test_change_password_is_hidden_typed_twice_and_long_enough(page, viewport, session):
    watch = session[1]
    open_settings(page, "apikeys")
    page.click("#my-password")
    page.wait_for_selector("#password-dialog", state="visible")
    assert page.get_attribute("#password-new", "type") == "password"
    assert page.get_attribute("#password-repeat", "type") == "password"
    page.click("#password-dialog button[value=cancel]")
    page.wait_for_selector("#password-dialog", state="hidden")

    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/password") else None)
    change_own_password(page, "short")
    assert page.is_visible("#password-dialog")
    assert page.evaluate("() => document.querySelector('#password-new').validity.tooShort")
    change_own_password(page, NEW_PASSWORD, NEW_PASSWORD + "x")
    page.wait_for_selector("#password-error", state="visible")
    assert "do not match" in page.inner_text("#password-error")
    assert sent == [] and page.is_visible("#password-dialog")
    page.fill("#password-repeat", NEW_PASSWORD)
    with page.expect_response("**/api/users/admin/password") as changed:
        page.click("#password-ok")
    assert changed.value.status == 204
    page.wait_for_selector("#password-dialog", state="hidden")
    # the server checks the length too
    with watch.expecting(r"status of 400"):
        answer = page.evaluate("""async () => {
            const {api} = await import('/static/js/api.js');
            try { await api.put('/api/users/admin/password', {password: 'a'}); return 'accepted'; }
            catch (error) { return `${error.status} ${error.message}`; }
        }""")
    assert answer.startswith("400") and "at least 8 characters" in answer
    with page.expect_response("**/api/users/admin/password") as changed:
        change_own_password(page, PASSWORD)
    assert changed.value.status == 204


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_remember_me_keeps_the_login_after_the_browser_closes(browser, octohost, admin_account, size):
    for remember in (False, True):
        context = browser.new_context(viewport=size)
        page = context.new_page()
        page.set_default_timeout(WAIT)
        watch = ConsoleWatch(page)
        try:
            page.goto(octohost.url)
            page.fill("#login-user", ADMIN)
            page.fill("#login-pass", PASSWORD)
            if remember:
                page.check("#login-remember")
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("#app", state="visible")
            cookie = next(c for c in context.cookies() if c["name"].startswith("session_P"))
            if remember:
                assert cookie["expires"] > time.time() + 30 * 24 * 3600
            else:
                assert cookie["expires"] == -1  # a session cookie: gone with the browser
            assert watch.problems == []
        finally:
            context.close()


def test_first_run_refuses_a_short_password(fresh_page):
    page = fresh_page
    page.wait_for_selector("#firstrun-form", state="visible")
    assert "8 characters" in page.inner_text("#firstrun-form")
    page.fill("#firstrun-user", ADMIN)
    page.fill("#firstrun-pass", "a")
    page.fill("#firstrun-pass2", "a")
    page.eval_on_selector("#firstrun-form", "f => f.noValidate = true")  # past the browser's own check
    page.click("#firstrun-form button[type=submit]")
    page.wait_for_selector("#firstrun-error", state="visible")
    assert "at least 8 characters" in page.inner_text("#firstrun-error")
    assert page.is_hidden("#app")
