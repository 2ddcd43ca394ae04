"""The administrator sets up a WeCom group robot for the centre's duty group on
/admin/channels/, in Chinese: the webhook key never shows again, a test message reaches a local
HTTP receiver started by the test, and turning the robot off takes its test button away."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import World

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("world", ["zh_CN"], indirect=True)]

KEY = "7f3c9a2e-51d4-4b8e-9c6a-0d2e8b1f4a77"


@pytest.fixture
def robot() -> Iterator[tuple[str, list[dict]]]:
    """A WeCom robot's webhook on 127.0.0.1: (base URL, the JSON bodies it received)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            reply = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_admin_adds_a_wecom_robot_tests_it_and_turns_it_off(world: World, robot):
    url, received = robot
    admin = world.page_for("admin")
    admin.goto("/admin/channels/")
    expect(admin.locator("h1")).to_have_text("通知渠道")
    expect(admin.locator("label[for=label]")).to_have_text("名称")  # a channel's, not 姓名
    admin.fill("#label", "心理中心值班群")
    admin.select_option("#kind", "wecom")
    admin.select_option("#role", "school_counsellor")
    admin.fill("#target_url", f"{url}/cgi-bin/webhook/send?key={KEY}")
    admin.locator("main form [type=submit]").last.click()
    expect(admin.locator(".flash.success")).to_have_text("渠道已添加。")

    row = admin.locator("main table tbody tr", has_text="心理中心值班群")
    expect(row).to_contain_text("企业微信群机器人")
    expect(row).to_contain_text("启用中")
    expect(row).to_contain_text(KEY[-4:])  # enough to tell two robots apart
    assert KEY not in admin.content()  # the webhook key is the robot's password
    world.shot(admin, "9-channels-added")

    row.get_by_role("button", name="发送测试消息").click()
    expect(admin.locator(".flash.success")).to_have_text("测试消息已发送。")
    assert [body["text"]["content"] for body in received] == [
        "【心桥】这是一条测试消息，说明本通知渠道已配置成功。"
    ]

    row.get_by_role("button", name="停用").click()
    expect(admin.locator(".flash.success")).to_have_text("渠道已停用，今后不再向其发送消息。")
    expect(row).to_contain_text("已停用")
    expect(row.get_by_role("button", name="发送测试消息")).to_have_count(0)
    expect(row.get_by_role("button", name="启用")).to_be_visible()
    world.shot(admin, "9-channels-off")
    assert len(received) == 1
