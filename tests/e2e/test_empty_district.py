"""A district set up from nothing: a fresh install with an empty database gets its first admin from
the command line, and the admin sets the whole district up from the screens at a phone's size — the
justice bureau, a department, a pilot township with its period, an item of the department delegated
to the township, two officers with certificates and a supervisor. An officer then finds the item on
the township's 执法事项清单 and records the district's first act on it, with the other as partner."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e import record_form
from tests.e2e.admin_screens import add_officer, said
from tests.e2e.conftest import REPO, VIEWPORT, app_server, server_env, sign_in, watch_for_problems

pytestmark = pytest.mark.e2e

BUREAU, DEPARTMENT, TOWN = "南川区司法局", "南川区城市管理局", "金山镇"
CODE, ITEM = "CG-001", "对在城市道路上违规设置户外广告的行政处罚"


@pytest.fixture(scope="module")
def empty_app() -> Iterator[tuple[str, str, Path]]:
    """The app on an empty data directory: no demo data, no unit, item or user."""
    with app_server(demo=False) as served:
        yield served


@pytest.fixture
async def phones(browser: Browser, empty_app: tuple[str, str, Path]) -> AsyncIterator[list[Page]]:
    """Two phones (the admin's, the officer's), each its own browser context; script errors and CSP
    violations on either fail the test."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    problems: list[str] = []
    for _ in range(2):
        ctx = await browser.new_context(
            base_url=empty_app[0],
            viewport=VIEWPORT,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            service_workers="allow",
            permissions=["geolocation"],
            geolocation={"latitude": 29.15, "longitude": 107.1, "accuracy": 12},
        )
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        p = await ctx.new_page()
        watch_for_problems(p, problems)
        pages.append(p)
    try:
        yield pages
    finally:
        for ctx in contexts:
            await ctx.close()
    assert not problems, "\n".join(problems)


def create_admin(data_dir: Path, username: str, name: str, password: str) -> str:
    """`fieldwatch create-admin`, as the operator of the fresh install runs it: the password on stdin."""
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", "create-admin", "--username", username, "--name", name],
        cwd=REPO,
        env=server_env(data_dir, demo=False),
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def add_unit(page: Page, name: str, kind: str, *, pilot: tuple[str, str] | None = None) -> None:
    form = page.get_by_test_id("ad-unit-form")
    await form.get_by_label("单位名称").fill(name)
    await form.get_by_label("单位类型").select_option(kind)
    if pilot:
        await form.get_by_test_id("ad-unit-pilot").check()
        await form.get_by_label("试点开始日期").fill(pilot[0])
        await form.get_by_label("试点结束日期").fill(pilot[1])
    await form.get_by_role("button", name="添加单位").click()
    await said(page, f"已添加单位“{name}”。")


def unit_meta(page: Page, name: str):
    return page.locator(f'[data-testid="ad-unit"][data-name="{name}"] > .row__meta')


async def test_a_district_is_set_up_from_an_empty_database_and_its_officer_can_record(
    empty_app: tuple[str, str, Path], phones: list[Page]
) -> None:
    _, password, data_dir = empty_app
    admin, officer = phones
    said_by_cli = create_admin(data_dir, "sfj-admin", "区司法局管理员", password)
    assert "sfj-admin" in said_by_cli and password not in said_by_cli

    # The first sign-in: the home says that nothing is set up and where to start.
    await sign_in(admin, "sfj-admin", password, "admin")
    notice = admin.get_by_test_id("admin-setup-notice")
    await expect(notice).to_contain_text("本区还没有设置：没有单位、执法事项，除您以外也没有用户。")
    await expect(notice).to_contain_text("从“单位”开始：先添加区司法局")
    await notice.get_by_role("link", name="开始：添加单位").click()
    await expect(admin).to_have_url(re.compile(r"#/admin/units$"))
    await expect(admin.get_by_text("还没有单位。在上方先添加区司法局")).to_be_visible()

    await add_unit(admin, BUREAU, "justice")
    await add_unit(admin, DEPARTMENT, "department")
    await add_unit(admin, TOWN, "township", pilot=("2026-01-01", "2027-12-31"))
    await expect(admin.get_by_test_id("ad-unit")).to_have_count(3)
    await expect(unit_meta(admin, BUREAU)).to_have_text("司法局")
    await expect(unit_meta(admin, DEPARTMENT)).to_have_text("区级部门")
    await expect(unit_meta(admin, TOWN)).to_have_text(
        "乡镇（街道） · 试点单位 · 试点期 2026-01-01 至 2027-12-31"
    )

    # Back home, the next step is named: the items.
    await admin.goto("/#/admin")
    notice = admin.get_by_test_id("admin-setup-notice")
    await expect(notice).to_contain_text("下一步：在“执法事项与赋权”中录入各部门的执法事项")
    await notice.get_by_role("link", name="录入执法事项").click()
    await expect(admin).to_have_url(re.compile(r"#/admin/items$"))
    await expect(admin.get_by_text("还没有执法事项。")).to_be_visible()
    form = admin.get_by_test_id("ad-item-form")
    await form.get_by_label("事项编码").fill(CODE)
    await form.get_by_label("事项名称").fill(ITEM)
    await form.get_by_label("类别").select_option(label="行政处罚")
    await form.get_by_label("主管部门").select_option(label=DEPARTMENT)
    await form.get_by_label("实施依据").fill("《城市市容和环境卫生管理条例》第十一条")
    await form.get_by_role("button", name="添加执法事项").click()
    await said(admin, f"已添加事项 {CODE}。")
    row = admin.locator(f'[data-testid="ad-item"][data-code="{CODE}"]')
    await expect(row.locator(".row__meta")).to_have_text(f"行政处罚 · {DEPARTMENT}")
    await row.locator("summary").click()
    await row.get_by_test_id("ad-dl-unit").select_option(label=TOWN)
    await row.get_by_test_id("ad-dl-from").fill("2026-01-01")
    await row.get_by_role("button", name="赋权给乡镇").click()
    await expect(row.get_by_test_id("ad-message")).to_have_text(f"已赋权给{TOWN}。")

    # Then the people: the next step named at home, two certified officers, a supervisor.
    await admin.goto("/#/admin")
    await expect(admin.get_by_test_id("admin-setup-notice")).to_contain_text("下一步：在“用户与执法证”中")
    await add_officer(admin, TOWN, "js-zhao", "赵明", password)
    await add_officer(admin, TOWN, "js-qian", "钱亮", password)
    await admin.goto("/#/admin/users")
    form = admin.get_by_test_id("ad-user-form")
    await form.get_by_label("用户名").fill("sfj-sun")
    await form.get_by_label("姓名").fill("孙监督")
    await form.get_by_label("初始密码").fill(password)
    await form.get_by_role("checkbox", name="执法人员").uncheck()
    await form.get_by_role("checkbox", name="执法监督人员").check()
    await form.get_by_role("checkbox", name=re.compile(f"^{BUREAU}")).check()
    await form.get_by_role("button", name="添加用户").click()
    await said(admin, "已添加用户“孙监督”。")
    users = admin.get_by_test_id("ad-user")
    await expect(users).to_have_count(4)
    await expect(admin.locator('[data-testid="ad-user"][data-username="sfj-sun"]')).to_contain_text(
        f"执法监督人员 · {BUREAU}"
    )
    await expect(admin.locator('[data-testid="ad-user"][data-username="js-zhao"]')).to_contain_text(
        f"执法人员 · {TOWN} · 执法证：有效"
    )

    # Set up: the home no longer says it is not.
    await admin.goto("/#/admin")
    await expect(admin.get_by_test_id("admin-units-link")).to_be_visible()
    await expect(admin.get_by_test_id("admin-setup-notice")).to_have_count(0)

    # The officer, on another phone: the township's list holds the delegated item, and a new record
    # offers it.
    await sign_in(officer, "js-zhao", password, "officer")
    await officer.get_by_test_id("enforcement-list-link").first.click()
    await expect(officer.get_by_test_id("el-title")).to_have_text(f"{TOWN}行政执法事项清单")
    entries = officer.get_by_test_id("el-entry")
    await expect(entries).to_have_count(1)
    await expect(entries).to_contain_text(CODE)
    await expect(entries).to_contain_text(ITEM)
    await officer.goto("/#/officer")
    await officer.get_by_role("button", name="新建执法记录").click()
    await expect(officer).to_have_url(re.compile(r"#/officer/new$"))
    offered = officer.get_by_role("radio", name=re.compile(ITEM))
    await expect(offered).to_have_count(1)
    # ...and the officer records the district's first act with the other officer as partner.
    await record_form.fill_record(officer, ITEM, "首次现场检查", partner="钱亮", address=f"{TOWN}正街1号")
    await record_form.submit(officer)
    await expect(officer).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    await expect(officer.get_by_test_id("flash")).to_have_text("执法记录已保存。")
    await expect(officer.get_by_test_id("action-officers")).to_contain_text("钱亮")
