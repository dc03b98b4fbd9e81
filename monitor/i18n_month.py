"""The words of the monthly loop (issue 13 and 14): confirmations and quotas, review (审核), reminders
(催报), explanations (情况说明) and notes, online entry (在线填报), commitments.

Part of monitor.i18n's catalogue (merged there, a key may live in one part only); split off so each
catalogue module stays readable.
"""

from __future__ import annotations

MONTH_CATALOGUE: dict[str, tuple[str, str]] = {
    # review (审核) of submissions by the bureau's approver (monitor.review)
    "review_pending": ("待审核", "pending"),
    "review_approved": ("已审核", "approved"),
    "review_returned": ("已退回", "returned"),
    "review_admin_only": ("只有系统管理员可以设置审核流程", "Only an admin can set the review flow"),
    "review_unknown_bureau": ("未知责任单位：{bureau}", "Unknown bureau: {bureau}"),
    "review_unknown_submission": ("未找到第{submission}号报送", "Submission {submission} not found"),
    "review_not_approver": ("只有本单位的审核人员可以审核", "Only the bureau's approver may review"),
    "review_own_submission": ("不能审核自己提交的报送", "You cannot review your own submission"),
    "review_not_pending": ("第{submission}号报送{status}，无需再审核", "Submission {submission} is not pending"),
    "review_comment_required": ("退回时请填写意见", "Say why the submission is returned"),
    "review_comment_too_long": ("意见最多{max}个字，现为{length}个字", "At most {max} characters, not {length}"),
    "act_review_approve": ("审核通过", "Submission approved"),
    "act_review_return": ("退回报送", "Submission returned"),
    "act_approval_setting": ("设置审核流程", "Review flow set"),
    "act_explanation_save": ("保存情况说明", "Explanation saved"),
    "act_reminder_push": ("推送催报提醒", "Reminder pushed"),
    # confirmations and district quotas decided in the app (monitor.target_settings)
    "confirmed": ("已确认", "confirmed"),
    "act_target_setting": ("确认目标口径或任务分解", "Target term confirmed or quota set"),
    "whole_target": ("全市目标", "the whole target"),
    "this_target": ("本目标", "this target"),
    "setting_unknown_target": ("未知目标：{target}", "Unknown target: {target}"),
    "setting_reason_required": ("请填写理由（如依据的文件或会议）", "Give a reason (the document or meeting)"),
    "setting_reason_too_long": ("理由最多{max}个字，现为{length}个字", "At most {max} characters, not {length}"),
    "setting_not_allowed": (
        "只有牵头单位（{bureau_zh}）的填报人员或系统管理员可以确认或修改本目标",
        "Only the lead bureau's ({bureau_en}) reporters or an admin may confirm or change this target",
    ),
    "setting_not_assumed": (
        "本目标的{item_zh}由政策原文确定，不是假设值，不能在此确认或修改",
        "This target's {item_en} is set by the policy text, not assumed: it cannot be confirmed or changed here",
    ),
    "setting_value_negative": ("数值不能为负数", "The value cannot be negative"),
    "setting_ratio_range": ("百分比应在0至100之间", "A percentage must be between 0 and 100"),
    "setting_flag_range": ("完成标志只能为0或1", "A done flag is 0 or 1"),
    "setting_baseline_after_deadline": ("基线月份不能晚于目标期限", "The baseline month cannot be after the deadline"),
    "setting_deadline_month_end": ("期限应为某月的最后一天", "A deadline is the last day of a month"),
    "setting_deadline_range": (
        "期限应在政策发布之后、{latest}年底之前，且不早于基线月份",
        "The deadline must be after the policy's publication, by the end of {latest} and not before the baseline",
    ),
    "setting_not_splittable": (
        "本目标不按旗区分解（比例、标志、仅全市数或政策单列的分项不设旗区任务）",
        "This target is not split by district (ratios, flags, city-only figures and parts the text sets are not)",
    ),
    "setting_unknown_district": ("旗区不在本目标范围内：{district}", "District not in this target's scope: {district}"),
    "setting_nothing_changed": ("任务分解没有变化", "The quotas are unchanged"),
    "setting_saved": ("已保存（版本 {versions}），已记入审计日志", "Saved (version {versions}), in the audit log"),
    "setting_action": ("操作", "Action"),
    "setting_now": ("现为：{value}", "Now: {value}"),
    "setting_confirm": ("确认", "Confirm"),
    "setting_correct": ("更正", "Correct"),
    "setting_set": ("设定", "Set"),
    "setting_clear": ("撤销", "Withdraw"),
    "setting_new_baseline": ("更正为：基线数值（{unit}）", "Correct to: baseline value ({unit})"),
    "setting_baseline_month": ("更正为：基线月份", "Correct to: baseline month"),
    "setting_year": ("更正为：年", "Correct to: year"),
    "setting_month": ("月（期限为该月月底）", "Month (the deadline is its last day)"),
    "setting_reason": ("理由（必填，如依据的文件、会议）", "Reason (required, e.g. the document or meeting)"),
    "setting_submit": ("保存", "Save"),
    "setting_history": ("确认与任务分解记录（{n}条）", "Confirmations and quotas ({n} changes)"),
    "setting_version": ("版本", "Version"),
    "setting_item": ("事项", "Item"),
    "setting_value": ("数值", "Value"),
    "setting_by": ("操作人", "By"),
    "setting_at": ("时间", "When"),
    "setting_field_baseline": ("基线", "Baseline"),
    "setting_field_deadline": ("期限", "Deadline"),
    "setting_field_tolerance": ("左右范围", "Range of 'about'"),
    "setting_field_reading": ("计数口径", "Reading of the count"),
    "setting_field_milestones": ("阶段节点", "Milestones"),
    "setting_field_quota": ("旗区任务", "District quota"),
    "decide_title": ("确认假设与任务分解（牵头单位）", "Confirm assumptions and set quotas (lead bureau)"),
    "decide_help": (
        "政策原文未写明的基线、期限等为假设值：请确认或更正，并写明依据。任务分解下达后，旗区对比和排名按分解任务计算。",
        "What the policy text does not state (baseline, deadline …) is assumed: confirm or correct it and say "
        "on what basis. Once quotas are set, the district comparison and ranking use them.",
    ),
    "quota_title": ("旗区任务分解", "District quotas"),
    "quota_help": (
        "填写各旗区任务；留空表示不设分解（该旗区按政策或平均分解）。清空已有数值即撤销。",
        "Enter each district's quota; leave blank for none (the policy or an equal split applies). "
        "Clearing a value withdraws it.",
    ),
    "quota_in_force": ("现行旗区目标", "District target now"),
    "quota_basis": ("依据", "Basis"),
    "quota_value": ("任务分解", "Quota"),
    "setting_quota_short": (
        "{what_zh}的旗区任务合计{total_zh}，少于目标{goal_zh}，未保存",
        "The quotas of {what_en} add up to {total_en}, less than the target of {goal_en}: not saved",
    ),
    # commitments without a milestone (monitor.commitments; words through fmt.commitment_state)
    "commitment_in_place": ("已落实", "In place"),
    "commitment_in_progress": ("推进中", "In progress"),
    "commitment_not_reported": ("未报送", "Not reported"),
    "commitment_no_figure": ("尚无数据", "no figure yet"),
    "commitments_title": ("承诺事项（无量化目标和期限）", "Commitments (no number, no date)"),
    "sheet_commitments": ("承诺事项", "Commitments"),
    "col_commitment": ("承诺事项", "Commitment"),
    "col_commitment_state": ("落实情况", "State"),
    "col_evidence": ("监测依据（最新全市数据）", "Evidence (latest city figures)"),
    "col_commitment_id": ("事项编码", "Commitment id"),
    "col_source": ("政策原文", "Policy text"),
    # reminders (催报, issue 14: monitor.reminders, dashboard.reminder_views, dashboard.open_items)
    "reminder_day": ("{month}月{day}日", "{day} {month_abbr}"),
    "reminder_state_missing": ("未报送", "Not received"),
    "reminder_state_late": ("逾期报送", "Received late"),
    "reminder_state_late_partial": ("逾期报送，未报送完整", "Received late, incomplete"),
    "reminder_notice_missing": (
        "【催报提醒】{bureau}：{month}月报截至{due}尚未报送，缺报指标：{kpis}。请尽快通过监测系统报送。",
        "[Reporting reminder] {bureau}: the {month} report was due by {due} and has not been received. "
        "KPIs not reported: {kpis}. Please submit it through the monitoring system as soon as possible.",
    ),
    "reminder_notice_partial": (
        "【催报提醒】{bureau}：{month}月报截至{due}未报送完整，缺报指标：{kpis}。请尽快通过监测系统报送。",
        "[Reporting reminder] {bureau}: the {month} report due by {due} is incomplete. "
        "KPIs not reported: {kpis}. Please submit them through the monitoring system as soon as possible.",
    ),
    "reminder_notice_all": (
        "【催报提醒】{month}月报截至{due}，以下单位尚有指标未报送：\n{lines}\n请尽快通过监测系统报送。",
        "[Reporting reminder] The {month} reports were due by {due}. These bureaus still have KPIs to report:\n"
        "{lines}\nPlease submit them through the monitoring system as soon as possible.",
    ),
    "reminder_notice_line": ("{n}. {bureau}，缺报指标：{kpis}", "{n}. {bureau}: {kpis}"),
    "open_item_missing": ("{month}月报未报送，截止{due}", "{month} report not received, due {due}"),
    "open_item_partial": (
        "{month}月报未报送完整（缺{n}项指标），截止{due}",
        "{month} report incomplete ({n} KPIs missing), due {due}",
    ),
    "reminders_tab": ("催报", "Reminders"),
    "reminders_title": ("本期催报：{month}月报（截止{due}）", "Reminders this period: {month} reports (due {due})"),
    "reminders_none": ("{month}月报各单位均已按时报送。", "Every bureau's {month} report came in on time."),
    "reminder_col_month": ("报送月份", "Month"),
    "reminder_col_due": ("截止日期", "Due"),
    "reminder_col_state": ("情况", "State"),
    "reminder_col_submitted": ("首次报送日期", "First received"),
    "reminder_col_kpis": ("缺报指标", "KPIs not reported"),
    "reminder_not_allowed": ("仅管理员可以催报。", "Only an administrator sends reminders."),
    "reminder_nobody": ("本期没有需要催报的单位。", "No bureau needs a reminder this period."),
    "reminder_pick": ("催报对象", "Remind"),
    "reminder_all": ("全部逾期未报单位（{n}个）", "All bureaus behind ({n})"),
    "reminder_notice_label": ("催报通知（复制后粘贴到工作群）", "Reminder notice (copy it into the group chat)"),
    "reminder_push": ("推送", "Push"),
    "reminder_push_target": ("推送到：{host}", "Pushes to: {host}"),
    "reminder_no_webhook": (
        "未配置推送地址：请复制通知粘贴到工作群。"
        "在 `.streamlit/secrets.toml` 中设置 `[reminders] webhook_url` 后可一键推送。",
        "No webhook configured: copy the notice into the group chat. Set `[reminders] webhook_url` in "
        "`.streamlit/secrets.toml` to push it with one click.",
    ),
    "reminder_pushed": ("已推送（HTTP {status}）。", "Pushed (HTTP {status})."),
    "reminder_fail_http": (
        "推送失败：接收地址返回 HTTP {status}，未重试。请检查推送地址配置或稍后再试。",
        "Push failed: the endpoint answered HTTP {status}; not retried. Check the webhook setting or try later.",
    ),
    "reminder_fail_errcode": (
        "推送失败：接收方返回错误码 {code}，未重试。请检查机器人配置（密钥、关键词、IP白名单）。",
        "Push failed: the robot answered error code {code}; not retried. Check its key, keyword and IP allowlist.",
    ),
    "reminder_fail_timeout": (
        "推送失败：接收地址{seconds}秒内没有响应（超时），未重试。请稍后再试。",
        "Push failed: no answer from the endpoint within {seconds} s (timeout); not retried. Try again later.",
    ),
    "reminder_fail_refused": (
        "推送失败：无法连接接收地址（连接被拒绝），未重试。请检查推送地址和网络。",
        "Push failed: the endpoint refused the connection; not retried. Check the webhook address and network.",
    ),
    "reminder_fail_network": (
        "推送失败：无法连接接收地址（网络错误），未重试。请检查推送地址和网络。",
        "Push failed: the endpoint could not be reached (network error); not retried. Check the address and network.",
    ),
    "reminder_fail_url": (
        "推送失败：推送地址无效（须为 http:// 或 https:// 地址），未发送。",
        "Push failed: the webhook address is invalid (it must be an http:// or https:// URL); nothing was sent.",
    ),
    # 审核 screens (pages/review.py, dashboard/review_views.py, dashboard/pending.py; issue 14 approval)
    "nav_review": ("数据审核", "Review"),
    "rv_intro": (
        "本单位填报人员提交的报送在审核通过后才计入领导看到的数据；退回须填写意见，填报人员会看到。",
        "Your bureau's submissions count for leadership only once approved; "
        "a return needs a comment, which the reporter sees.",
    ),
    "rv_admin_note": ("系统管理员只能查看；审核由本单位审核人员进行。", "Admins look; the bureau's approver reviews."),
    "rv_pending_title": ("待审核的报送（{n}）", "Pending submissions ({n})"),
    "rv_none_pending": ("目前没有待审核的报送。", "No submission is waiting for review."),
    "rv_line": (
        "第{sid}号报送 · {file} · {user} · {when} · {rows}行",
        "No. {sid} · {file} · {user} · {when} · {rows} rows",
    ),
    "rv_reason": ("修改原因：{reason}", "Reason for the change: {reason}"),
    "rv_approved_value": ("现行数值（已审核）", "Approved figure now"),
    "rv_note": ("备注", "Note"),
    "rv_approve": ("审核通过", "Approve"),
    "rv_return": ("退回", "Return"),
    "rv_comment": ("退回意见（退回时必填，最多500字）", "Comment (required to return, at most 500 characters)"),
    "rv_approved_done": ("第{sid}号报送已审核通过，数据已计入。", "Submission {sid} approved: its figures now count."),
    "rv_returned_done": ("第{sid}号报送已退回。", "Submission {sid} returned."),
    "rv_returned_title": ("被退回的报送", "Returned submissions"),
    "rv_reviewed_by": ("审核人员", "Approver"),
    "rv_reviewed_at": ("审核时间", "Reviewed at"),
    "rv_comment_col": ("退回意见", "Comment"),
    "rv_returned_line": (
        "{file}（{months}）· 审核人员 {approver} · {when}：{comment}",
        "{file} ({months}) · approver {approver} · {when}: {comment}",
    ),
    "rv_pending_line": ("待审核：{file}（{months}）· 提交于 {when}", "Pending: {file} ({months}) · submitted {when}"),
    "rv_open_pending": ("{n}项待审核", "{n} submission(s) waiting for your review"),
    "rv_open_returned": ("{n}项被退回", "{n} submission(s) returned to you"),
    "pending_toggle": ("包含待审核数据", "Include figures pending review"),
    "pending_excluded": ("另有{n}项数据待审核，未计入", "{n} figure(s) pending review, not counted"),
    "pending_included": ("已包含{n}项待审核数据", "{n} figure(s) pending review included"),
    "pending_banner": (
        "含待审核数据：本页包含{n}项尚未审核通过的数据（侧栏可关闭）。",
        "Includes pending figures: this page counts {n} figure(s) not yet approved (switch off in the sidebar).",
    ),
    "brief_pending": ("含待审核数据", "Includes figures pending review"),
    "adm_review_title": ("报送审核设置", "Review of submissions"),
    "adm_review_help": (
        "勾选“需要审核”的单位，填报人员的报送须经本单位审核人员审核后才计入；取消勾选则提交即计入。",
        "Where review is on, a reporter's submission counts once the bureau's approver approves it; "
        "off, it counts on submit.",
    ),
    "adm_review_required": ("需要审核", "Review required"),
    "adm_review_saved": ("{bureau}：{state}", "{bureau}: {state}"),
    "adm_review_on": ("需要审核", "review on"),
    "adm_review_off": ("无需审核（提交即计入）", "review off (counts on submit)"),
    # -- issue 14: explanations (情况说明) and figure notes (备注): monitor/explanations.py, etl/notes.py
    "expl_progress": ("进展情况", "Progress"),
    "expl_problems": ("存在问题", "Problems"),
    "expl_next_steps": ("下步措施", "Next steps"),
    "expl_tab": ("情况说明", "Explanations"),
    "expl_unknown_target": ("未知目标“{target}”", "unknown target “{target}”"),
    "expl_not_allowed": (
        "只有{bureau_zh}的填报人员或管理员可以填写该目标的情况说明",
        "Only reporters of the {bureau_en} or an admin may write this target's explanation",
    ),
    "expl_bad_month": (
        "{month_zh}不能填写情况说明：月份须在政策实施以后、不晚于本月",
        "{month_en} cannot be explained: the month must be after the policy began and not after this month",
    ),
    "expl_too_long": (
        "{field_zh}不能超过{max}个字符（当前{length}个字符）",
        "{field_en} is at most {max} characters (this one has {length})",
    ),
    "expl_empty": (
        "请至少填写进展情况、存在问题、下步措施中的一项",
        "Write at least one of progress, problems and next steps",
    ),
    "expl_intro": (
        "为本单位牵头的每个目标填写该月的进展情况、存在问题、下步措施（纯文本，每项不超过{max}字）。"
        "目标状态为需关注、明显滞后或逾期未完成时必须填写，否则不能提交该月报表。",
        "For each target your bureau leads, write the month's progress, problems and next steps (plain text, "
        "at most {max} characters each). Required when the target is at risk, off track or overdue: the "
        "month's report cannot be submitted without it.",
    ),
    "expl_required": ("必填：目标状态为{status}", "Required: the target is {status}"),
    "expl_optional": ("选填：目标状态为{status}", "Optional: the target is {status}"),
    "expl_prefilled": ("已按{month}的情况说明预填", "Prefilled from the explanation of {month}"),
    "expl_save": ("保存情况说明", "Save explanation"),
    "expl_saved": ("已保存情况说明（版本{version}）", "Explanation saved (version {version})"),
    "expl_no_targets": ("本单位没有牵头的目标。", "This bureau leads no target."),
    "expl_missing": (
        "{month}“{target}”的情况说明未填写（目标状态为{status}），请先在“情况说明”页签填写后再提交报表",
        "The {month} explanation of “{target}” is missing (the target is {status}); write it in the "
        "Explanations tab before submitting the report",
    ),
    "expl_none": ("尚无情况说明。", "No explanation yet."),
    "expl_by": ("填写人", "Written by"),
    "expl_at": ("保存时间", "Saved at"),
    "expl_versions": ("保存次数", "Versions"),
    "expl_of_month": ("情况说明（{month}）", "Explanation ({month})"),
    "expl_notes_title": ("{month}数据备注", "Notes on the figures of {month}"),
    "expl_no_notes": ("本月数据没有备注。", "No figure of this month has a note."),
    "col_note": ("备注", "Note"),
    "col_explanation": ("情况说明", "Explanation"),
    "sheet_explanations": ("情况说明", "Explanations"),
    # 在线填报 (dashboard/entry_form.py, etl/entry.py; issue 14 online entry). entry_rule_* zh = etl.template.rule_zh
    "entry_tab": ("在线填报", "Online entry"),
    "entry_help": (
        "逐行填写本月数值（可填 1234、1,234、1.5万；比率可带%），数值为空表示本月未报送。上月数值仅供参考。"
        "校验规则与上传模板相同；检查通过后提交。",
        "Type this month's figure on each row (1234, 1,234, 1.5万; a ratio may carry %); an empty value means "
        "not reported. Last month is for reference. The checks are those of an uploaded template.",
    ),
    "entry_basis": ("报送口径", "Reporting basis"),
    "entry_last_month": ("上月数值（参考）", "Last month (reference)"),
    "entry_value": ("本月数值", "This month"),
    "entry_fill": ("按上月数值填充", "Fill empty cells with last month"),
    "entry_check": ("检查", "Check"),
    "entry_save": ("保存草稿", "Save draft"),
    "entry_submit": ("提交", "Submit"),
    "entry_draft_saved": ("草稿已于 {time} 由 {user} 保存。", "Draft saved by {user} at {time}."),
    "entry_problems": (
        "发现{n}个问题，未提交，数据未做任何更改。请按下表（及表格“问题”列）修改后再检查。",
        "{n} problem(s) found; nothing was submitted. Fix the rows below (see the Problem column) and check again.",
    ),
    "entry_check_ok": (
        "检查通过：{filled}行已填写，{empty}行为空（视为本月未报送）。",
        "Valid: {filled} row(s) filled, {empty} empty (not reported this month).",
    ),
    "entry_row_warning": ("第{row}行（{kpi}，{district}）：{text}", "Row {row} ({kpi}, {district}): {text}"),
    "entry_pending": ("已提交，待本单位审核人员审核后生效。", "Submitted; it counts once your approver approves it."),
    "entry_rule_increment": ("填本月新增数（不是累计数）", "New this month (not cumulative)"),
    "entry_rule_cumulative": ("填自2024年7月以来的累计数，不得小于上月", "Cumulative since July 2024, ≥ last month"),
    "entry_rule_level": ("填月末实有数", "Month-end level"),
    "entry_rule_ratio": ("填月末比率，0–100，可带%", "Month-end ratio, 0–100, % allowed"),
    "entry_rule_flag": ("已完成填1，未完成填0", "1 if done, 0 if not"),
}
