"""The top bar's menus (kechuang/templates/base.html): grouped, and showing each role only what it may open."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def nav(client, user) -> str:
    client.force_login(user)
    html = client.get(reverse("workflows:inbox")).content.decode()
    return html[html.index('<nav class="mainnav"') : html.index("</nav>")]


def menus(html: str) -> dict[str, list[str]]:
    """{menu title: [link texts]}, and the links outside any menu under ""."""
    found = {}
    for title, body in re.findall(r"<summary[^>]*>(.*?)</summary>\s*<div class=\"menu\">(.*?)</div>", html, re.S):
        found[title] = re.findall(r"<a [^>]*>(.*?)</a>", body)
    outside = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    found[""] = re.findall(r"<a [^>]*>(.*?)</a>", outside)
    return found


def test_the_officer_gets_a_few_menus_holding_every_entry(client, personas):
    carol = personas.carol
    carol.is_staff = True
    carol.save()
    assert menus(nav(client, carol)) == {
        "企业": ["企业库", "数据导入", "梯度培育"],
        "项目": ["科技计划", "揭榜挂帅"],
        "成果转化": ["双向发榜", "认定登记"],
        "政策与创新券": ["政策", "创新券"],
        "监测与任务": ["统计监测", "计划任务"],
        "系统": ["接口文档", "管理后台"],
        "": ["待办"],
    }


def test_a_university_sees_no_menu_it_has_nothing_in(client, personas):
    assert menus(nav(client, personas.uma)) == {
        "项目": ["揭榜挂帅"],
        "成果转化": ["双向发榜"],
        "政策与创新券": ["政策"],
        "系统": ["接口文档"],
        "": ["待办"],
    }


def test_an_expert_finds_its_review_tasks_under_projects(client, personas):
    found = menus(nav(client, personas.eve))
    assert found["项目"] == ["评审任务", "揭榜挂帅"]
    assert "企业" not in found and "监测与任务" not in found


def test_the_menu_of_the_page_shown_is_marked(client, personas):
    client.force_login(personas.carol)
    html = client.get(reverse("policies:library")).content.decode()
    assert '<summary class="active">政策与创新券</summary>' in html
    assert re.search(r'<a href="/policies/"\s+class="active">政策</a>', html)


def test_the_menus_need_no_script(client, personas):
    html = nav(client, personas.carol)
    assert "<script" not in html and "onclick" not in html
    assert html.count('<details class="navmenu" name="mainnav">') == 6  # one open at a time, natively
