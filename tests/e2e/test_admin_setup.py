"""Setting a township up in the app: the admin adds the township, an enforcement item of a
department delegated to it, and two officers with certificates, all from the admin's screens; one
of those officers then records an on-site act on a phone with the other as partner."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.e2e import record_form
from tests.e2e.admin_screens import add_officer, said
from tests.e2e.conftest import ApiClient, sign_in

pytestmark = pytest.mark.e2e

GEO = {"latitude": 29.15, "longitude": 107.1, "accuracy": 12}


async def test_an_admin_sets_up_a_township_whose_officers_then_record_an_act(
    page: Page, new_page: Callable[..., Awaitable[Page]], api: Callable[[str], ApiClient], password: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    town, code, item = f"新建镇{tag}", f"E2E-{tag}", f"对违规设置户外广告的行政处罚{tag}"
    await sign_in(page, "admin", password, "admin")

    await page.get_by_test_id("admin-units-link").click()
    add = page.get_by_test_id("ad-unit-form")
    await add.get_by_label("单位名称").fill(town)
    await add.get_by_label("单位类型").select_option("township")
    await add.get_by_test_id("ad-unit-pilot").check()
    await add.get_by_role("button", name="添加单位").click()
    await said(page, f"已添加单位“{town}”。")
    meta = page.locator(f'[data-testid="ad-unit"][data-name="{town}"] > .row__meta')
    await expect(meta).to_have_text("乡镇（街道） · 试点单位")

    await page.goto("/#/admin/items")
    form = page.get_by_test_id("ad-item-form")
    await form.get_by_label("事项编码").fill(code)
    await form.get_by_label("事项名称").fill(item)
    await form.get_by_label("实施依据").fill("《城市市容和环境卫生管理条例》第十一条")
    await form.get_by_label("刑事移送标准：涉案金额（元）").fill("50000")
    await form.get_by_role("button", name="添加执法事项").click()
    await said(page, f"已添加事项 {code}。")
    row = page.locator(f'[data-testid="ad-item"][data-code="{code}"]')
    await row.locator("summary").click()
    await row.get_by_test_id("ad-dl-unit").select_option(label=town)
    await row.get_by_test_id("ad-dl-from").fill("2024-01-01")
    await row.get_by_role("button", name="赋权给乡镇").click()
    await expect(row.get_by_test_id("ad-message")).to_have_text(f"已赋权给{town}。")

    first, second = f"e2e-a-{tag}", f"e2e-b-{tag}"
    await add_officer(page, town, first, f"赵{tag}", password)
    await add_officer(page, town, second, f"钱{tag}", password)

    # With two officers in it, the township cannot be deactivated: the screen says why.
    await page.goto("/#/admin/units")
    row = page.locator(f'[data-testid="ad-unit"][data-name="{town}"]')
    await row.locator("summary").click()
    await row.get_by_test_id("ad-unit-toggle").click()
    await expect(row.get_by_test_id("ad-message").last).to_contain_text("不能停用：在用账号2个")

    # The township's list now shows the delegated item.
    units = api("admin").get("/units", limit=200)["items"]
    town_id = next(u["id"] for u in units if u["name"] == town)
    listed = api("admin").get(f"/units/{town_id}/enforcement-list")["entries"]
    assert [e["item"]["code"] for e in listed] == [code]

    # The first officer records an act on a phone, with the second as partner.
    phone = await new_page(permissions=["geolocation"], geolocation=GEO)
    await sign_in(phone, first, password, "officer")
    await phone.get_by_role("button", name="新建执法记录").click()
    await expect(phone).to_have_url(re.compile(r"#/officer/new$"))
    notes = f"新建镇首次检查{tag}"
    await record_form.fill_record(phone, item, notes, partner=f"钱{tag}", address=f"{town}正街1号")
    await record_form.submit(phone)
    await expect(phone).to_have_url(re.compile(r"#/officer/actions/[0-9a-f-]{36}$"))
    await expect(phone.get_by_test_id("flash")).to_have_text("执法记录已保存。")
    acts = api("admin").get("/actions", unit_id=town_id, limit=50)["items"]
    assert [a["notes"] for a in acts] == [notes]

    # The second officer forgot the password: the admin makes a one-time link, the officer opens it
    # on a phone, sets a new password and signs in with it; the link does not work twice.
    second_id = next(
        u["id"] for u in api("admin").get("/users", limit=200)["items"] if u["username"] == second
    )
    await page.goto(f"/#/admin/users/{second_id}")
    await page.get_by_test_id("ad-make-link").click()
    link = await page.get_by_test_id("ad-link-value").input_value()
    assert re.search(r"/#/reset/[A-Za-z0-9_-]{40,}$", link), link
    other = await new_page()
    await other.goto(link)
    await expect(other).to_have_url(re.compile(r"#/reset$"))  # the token left the address bar
    await other.get_by_label("新密码", exact=True).fill("全新的密码2026")
    await other.get_by_label("再次输入新密码").fill("全新的密码2026")
    await other.get_by_role("button", name="设置密码").click()
    await expect(other.get_by_test_id("reset-done")).to_have_text("新密码已设置。请用新密码登录。")
    await other.get_by_test_id("reset-login").click()
    await sign_in(other, second, "全新的密码2026", "officer")
    again = await new_page()
    await again.goto(link)
    await again.get_by_label("新密码", exact=True).fill("再一个密码2026")
    await again.get_by_label("再次输入新密码").fill("再一个密码2026")
    await again.get_by_role("button", name="设置密码").click()
    await expect(again.get_by_test_id("reset-message")).to_contain_text("已经用过")

    # The admin finds the officer by name, suspends the certificate with a reason and reinstates it.
    await page.goto("/#/admin/users")
    await page.get_by_test_id("ad-user-search").fill(f"赵{tag}")
    await expect(page.get_by_test_id("ad-user")).to_have_count(1)
    await page.locator(f'[data-testid="ad-user"][data-username="{first}"] a').click()
    pause = page.get_by_test_id("ad-pause-form")
    await page.locator("summary", has_text="暂扣执法证").click()
    await pause.get_by_label("原因").fill("涉嫌违规执法，调查期间暂扣")
    await pause.get_by_role("button", name="暂扣执法证").click()
    await expect(page.get_by_test_id("ad-cert-status")).to_have_text("暂停")
    await page.locator("summary", has_text="恢复执法证").click()
    await page.get_by_test_id("ad-pause-form").get_by_label("原因").fill("调查结束，恢复")
    await page.get_by_test_id("ad-pause-form").get_by_role("button", name="恢复执法证").click()
    await expect(page.get_by_test_id("ad-cert-status")).to_have_text("有效")
