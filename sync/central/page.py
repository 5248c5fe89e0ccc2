"""The staff web page of the reference central: the demand pool by urgency, status forms, notices.

Plain HTML forms, no JavaScript: it works in any browser in the property office.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sync.records import STATUS_LABELS

URGENCY_LABELS = {"urgent": "紧急", "high": "高", "normal": "普通", "low": "低"}
_STYLE = """
body{font-family:"WenQuanYi Micro Hei",sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top}
th{background:#f0f0f0}.urgent td{background:#fde2e2}.high td{background:#fff3d6}
.closed td{color:#888}form{margin:0}input[type=text]{width:12em}
"""


def login(error: str | None = None) -> str:
    """The sign-in form (the staff token is kept in a same-site, HTTP-only cookie)."""
    msg = f"<p style='color:#b00'>{escape(error)}</p>" if error else ""
    return _page("物业工作台 登录", f"""{msg}
<form method="post" action="/staff/login"><label>工作人员令牌 staff token
<input type="password" name="token" autofocus></label> <button>登录</button></form>""")


def pool(requests: list[dict[str, Any]], notices: list[dict[str, Any]], kiosks: list[dict[str, Any]]) -> str:
    """The demand pool: every request, open ones first, most urgent first, with a status form each."""
    rows = []
    for r in requests:
        closed = r["status"] in ("done", "cancelled")
        cls = "closed" if closed else r["urgency"]
        contact = r.get("contact") or {}
        options = "".join(
            f"<option value='{s}'{' selected' if s == r['status'] else ''}>{STATUS_LABELS[s]} {s}</option>"
            for s in ("accepted", "in_progress", "done", "cancelled"))
        form = "" if closed else (
            f"<form method='post' action='/staff/requests/{escape(r['id'])}/status'>"
            f"<select name='status'>{options}</select> <input type='text' name='note' placeholder='给居民的说明'"
            f" value='{escape(r.get('note') or '')}'> <button>更新</button></form>")
        rows.append(
            f"<tr class='{cls}'><td>{escape(r['ticket'])}</td><td>{URGENCY_LABELS.get(r['urgency'], '')}</td>"
            f"<td>{escape(r['category'])}</td><td>{escape(r['summary'])}"
            f"{'<br><small>' + escape(r['location']) + '</small>' if r.get('location') else ''}</td>"
            f"<td>{escape(contact.get('room') or '')}<br>{escape(contact.get('phone') or '')}</td>"
            f"<td>{escape(r['kiosk_id'])}<br><small>{escape(r['created_at'])}</small></td>"
            f"<td>{STATUS_LABELS[r['status']]}<br><small>{escape(r.get('note') or '')}</small></td><td>{form}</td></tr>")
    notice_items = "".join(
        f"<li>{'<b>重要</b> ' if n['priority'] == 'high' else ''}{escape(n['title'])}: {escape(n['body'])}"
        f" <small>({escape(n['starts_at'])} – {escape(n['ends_at'] or '')})</small></li>" for n in notices)
    kiosk_items = "".join(
        f"<li>{escape(k['kiosk_id'])}: 待发送 {k.get('outbox_depth')}，最后心跳 {escape(k['received_at'])}</li>"
        for k in kiosks)
    body = f"""<p><a href="/staff">刷新</a></p>
<h2>需求池 ({len(requests)})</h2>
<table><tr><th>工单号</th><th>紧急程度</th><th>类别</th><th>内容</th><th>房号/电话</th><th>来源</th>
<th>状态</th><th>处理</th></tr>{''.join(rows)}</table>
<h2>发布通知</h2>
<form method="post" action="/staff/notices">
<input type="text" name="title" placeholder="标题" required> <input type="text" name="body" placeholder="内容"
style="width:24em"> <select name="priority"><option value="normal">普通</option><option value="high">重要</option>
</select> 有效 <input type="number" name="hours" value="24" min="1" style="width:4em"> 小时 <button>发布</button></form>
<ul>{notice_items}</ul>
<h2>楼门屏</h2><ul>{kiosk_items or '<li>暂无心跳</li>'}</ul>"""
    return _page("物业工作台 需求池", body)


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")
