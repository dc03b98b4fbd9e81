"""One catalogue for every UI string: Simplified Chinese first, English on the toggle (the words of
the monthly loop are in monitor/i18n_month.py, merged here).

KPI and target names come from targets.yaml (name_zh / name_en), not from here.
"""

from __future__ import annotations

from typing import Literal

from monitor.i18n_month import MONTH_CATALOGUE

Lang = Literal["zh", "en"]

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "achieved": ("已完成", "Achieved"),
    "on_track": ("正常推进", "On track"),
    "at_risk": ("需关注", "At risk"),
    "off_track": ("明显滞后", "Off track"),
    "overdue": ("逾期未完成", "Overdue"),
    "no_data": ("数据缺失", "No data"),
}

KIND_LABELS: dict[str, tuple[str, str]] = {
    "cumulative": ("累计", "Cumulative"),
    "stock": ("存量", "Stock"),
    "annual": ("年度", "Annual"),
    "ratio": ("比率", "Ratio"),
    "cap": ("上限", "Cap"),
    "floor": ("下限", "Floor"),
    "milestone": ("里程碑", "Milestone"),
}

CATALOGUE: dict[str, tuple[str, str]] = {
    "app_title": ("暖城“新市民”0477系列措施监测", "Ordos New Residents 0477 Monitor"),
    "app_subtitle": (
        "服务暖城“新市民”0477系列措施 目标进展监测平台",
        "Progress monitor of the 0477 measures for new residents",
    ),
    "language": ("语言 / Language", "语言 / Language"),
    "as_of": ("数据截至", "As of"),
    "demo_banner": (
        "当前为演示数据（合成数据，非真实统计），仅供功能演示。",
        "This is the synthetic demo dataset, not real statistics.",
    ),
    "empty_title": ("数据库中还没有数据", "The warehouse has no data yet"),
    "empty_body": (
        "请由责任单位在“数据上报”页面上传月报，或由管理员在命令行导入：\n\n"
        "`python -m etl load 月报.xlsx --bureau housing --user 张三`\n\n"
        "如需查看演示效果，可运行 `python -m etl demo` 导入合成演示数据。",
        "Bureaus upload monthly reports on the Reporting page, or an administrator loads them:\n\n"
        "`python -m etl load report.xlsx --bureau housing --user alice`\n\n"
        "To try the dashboard, `python -m etl demo` loads a synthetic demo dataset.",
    ),
    # sign-in
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出登录", "Sign out"),
    "user_name": ("账号", "User name"),
    "password": ("密码", "Password"),
    "role": ("角色", "Role"),
    "role_leader": ("领导", "Leader"),
    "role_reporter": ("填报人员", "Bureau reporter"),
    "role_approver": ("审核人员", "Bureau approver"),
    "role_admin": ("管理员", "Administrator"),
    "session_expired": ("登录已过期，请重新登录。", "Your session expired; please sign in again."),
    "sso_sign_in": ("统一身份认证登录", "Sign in with single sign-on"),
    "demo_accounts": ("演示账号", "Demo accounts"),
    "demo_accounts_note": (
        "仅在演示数据模式下显示。正式环境由管理员创建账号。",
        "Shown only with the demo dataset. In production an administrator creates accounts.",
    ),
    # accounts (monitor/auth.py): one refusal for every failed sign-in; the real reason is in the audit log
    "auth_refused": (
        "账号或密码错误，或账号暂不可用。连续{max}次失败将锁定{minutes}分钟；如无法登录，请联系管理员。",
        "Wrong user name or password, or the account is not available. {max} failures in a row lock it for "
        "{minutes} minutes; if you cannot sign in, contact your administrator.",
    ),
    "auth_busy": ("系统繁忙，请稍后再试。", "The system is busy; please try again in a moment."),
    "auth_password_short": ("密码至少{n}位。", "A password needs at least {n} characters."),
    "auth_unknown_role": ("未知角色：{role}", "Unknown role: {role}"),
    "auth_reporter_bureau": ("填报人员和审核人员必须属于一个责任单位。", "A reporter or approver needs a bureau."),
    "auth_unknown_bureau": ("未知责任单位：{bureau}", "Unknown bureau: {bureau}"),
    "auth_user_exists": ("账号已存在：{user}", "The account already exists: {user}"),
    "auth_no_such_user": ("账号不存在：{user}", "No such account: {user}"),
    "auth_passwords_differ": ("两次输入的密码不一致。", "The two passwords differ."),
    "name_length": (
        "账号长度应为{min}至{max}个字符，现为{n}个。",
        "A user name has {min} to {max} characters; this one has {n}.",
    ),
    "name_invisible": (
        "账号含有不可见字符（控制、零宽或文字方向字符 {code}），请重新输入。",
        "The user name contains an invisible character (control, zero-width or text direction, {code}); type it again.",
    ),
    "name_mixed_script": (
        "账号中英文字母混有形近的西里尔或希腊字母（{code}），请只用英文字母。",
        "The user name mixes Latin letters with a look-alike Cyrillic or Greek letter ({code}); "
        "use Latin letters only.",
    ),
    "name_chars": (
        "账号只能包含英文字母、数字、汉字和 . _ - @ ·，不能包含“{char}”（{code}）。",
        "A user name may contain only Latin letters, digits, Chinese characters and . _ - @ ·, not “{char}” ({code}).",
    ),
    "user_unknown_account": ("（不存在的账号）", "(unknown account)"),
    "session_ended": (
        "账号已被停用或密码已重置，本次登录已结束。请重新登录；如无法登录，请联系管理员。",
        "Your account was disabled or its password reset, so this session has ended. Sign in again; "
        "if you cannot, contact your administrator.",
    ),
    # navigation
    "nav_overview": ("总览", "Overview"),
    "nav_detail": ("指标详情", "Target detail"),
    "nav_districts": ("旗区对比", "Districts"),
    "nav_bureaus": ("责任单位", "Bureaus"),
    "nav_quality": ("数据质量", "Data quality"),
    "nav_upload": ("数据上报", "Reporting"),
    "nav_briefing": ("简报导出", "Briefing export"),
    "nav_admin": ("系统管理", "Administration"),
    "nav_group_monitor": ("监测", "Monitoring"),
    "nav_group_work": ("工作", "Work"),
    # punctuation the pages put around names and counts
    "labelled": ("{label}：{value}", "{label}: {value}"),
    "list_sep": ("、", "; "),
    "with_count": ("{title}（{n}）", "{title} ({n})"),
    "city_only_target": ("该目标只在全市层面统计。", "This target is measured for the whole city only."),
    # overview
    "filters": ("筛选", "Filters"),
    "rolling_12": ("（近12个月滚动）", " (rolling 12 months)"),
    "filters_active": ("筛选（已启用{n}项）", "Filters ({n} in use)"),
    "f_section": ("政策条目", "Policy section"),
    "f_bureau": ("责任单位", "Bureau"),
    "f_status": ("状态", "Status"),
    "f_deadline": ("截止年份", "Deadline year"),
    "all": ("全部", "All"),
    "group_annual": ("每年", "Annual"),
    "due_by": ("{year}年到期", "Due {year}"),
    "targets_count": ("共{n}项目标", "{n} targets"),
    # the policy's own structure (sections, 0477, activity indicators)
    "group_by": ("分组方式", "Group by"),
    "group_by_deadline": ("按截止年份", "Deadline year"),
    "group_by_section": ("按政策条目", "Policy section"),
    "section_no_targets": ("本节无量化目标", "This section sets no quantified target"),
    "structure_title": ("政策结构：“0477”的含义", "How the policy is built: what “0477” means"),
    "structure_body": (
        "《服务暖城“新市民”0477系列措施》分四部分，“0477”即各部分的措施数：\n\n"
        "- **0**：一、实行“零门槛”落户政策——全面放开城镇落户，想落尽落；\n"
        "- **4**：二、实行“四暖”就业政策——（一）暖业、（二）暖岗、（三）暖创、（四）暖才；\n"
        "- **7**：三、实行“七优”服务政策——优质的人力资源、住房保障、便民生活、医疗保障、公共出行、"
        "婚姻登记、政策咨询服务；\n"
        "- **7**：四、实行“七无忧”保障政策——求职、安居、生育、教育、医疗、养老、进城无忧。\n\n"
        "共19个条目（如“三(二)”即第三部分第（二）条）。选择“按政策条目”分组，可逐条查看目标和活动指标。",
        "The policy 《服务暖城“新市民”0477系列措施》 has four parts; “0477” counts their measures:\n\n"
        "- **0**: Part 1, a *zero-threshold* residence registration: anyone who wishes may register;\n"
        "- **4**: Part 2, the *four warm* employment measures: (1) warm industry, (2) warm posts, "
        "(3) warm start-ups, (4) warm talent;\n"
        "- **7**: Part 3, the *seven quality* services: human resources, housing support, neighbourhood "
        "services, medical insurance, public transport, marriage registration, policy advice;\n"
        "- **7**: Part 4, the *seven without worry* guarantees: job seeking, housing, childbirth, education, "
        "health care, old age, moving to town.\n\n"
        "19 sections in all (“三(二)” is item (2) of part 3). Group by policy section to read each one "
        "with its targets and activity indicators.",
    ),
    "activity_title": ("活动指标（按月报送，无目标值）", "Activity indicators (reported monthly, no target)"),
    "section_activity": ("本条目的活动指标", "Activity indicators of this section"),
    "col_indicator": ("指标", "Indicator"),
    "col_latest_month": ("最新月份", "Latest month"),
    "col_latest_figure": ("当月数值", "Figure that month"),
    "col_total_since": ("{start}以来累计", "Total since {start}"),
    "policy_section": ("政策条目", "Policy section"),
    "col_section": ("条目", "Section"),
    "col_target": ("目标", "Target"),
    "col_bureau": ("牵头单位", "Lead bureau"),
    "col_actual": ("最新实际", "Latest actual"),
    "col_goal": ("目标值", "Target value"),
    "col_deadline": ("截止", "Deadline"),
    "col_progress": ("完成进度", "Progress"),
    "col_elapsed": ("时间进度", "Time elapsed"),
    "col_forecast": ("预测", "Forecast"),
    "col_status": ("状态", "Status"),
    "col_reason": ("说明", "Reason"),
    "col_district": ("旗区", "District"),
    "no_match": ("没有符合筛选条件的目标。", "No target matches the filters."),
    # detail
    "pick_target": ("选择目标", "Choose a target"),
    "pick_district": ("范围", "Scope"),
    "scope_all": ("目标范围合计", "Target scope total"),
    "chart_actual": ("实际", "Actual"),
    "chart_planned": ("计划进度", "Planned"),
    "chart_forecast": ("趋势预测", "Forecast"),
    "chart_band": ("预测区间", "Forecast band"),
    "chart_target": ("目标", "Target"),
    "source_sentence": ("政策原文", "Policy text"),
    "responsible": ("责任单位", "Responsible bureaus"),
    "lead": ("牵头", "lead"),
    "co": ("配合", "co-responsible"),
    "by_district": ("分旗区情况", "By district"),
    "submissions_behind": ("数据来源（报送记录）", "Submissions behind the figures"),
    "previous_years": ("往年完成情况", "Previous years"),
    "met": ("完成", "met"),
    "missed": ("未完成", "missed"),
    # districts
    "heatmap_title": ("各旗区目标完成进度", "Progress by target and district"),
    "heatmap_note": (
        "旗区目标：已下达任务分解的按任务分解，政策单列的按政策，其余按目标范围内旗区平均分解（每行说明写明依据）；"
        "仅含累计和年度目标，用于横向比较。",
        "District targets: the quota where one is set, what the policy sets where it does, otherwise an equal split "
        "over the districts in scope (each row's reason says which); cumulative and annual targets only.",
    ),
    "quota_targets": ("已设定任务分解的目标：{names}", "Targets with district quotas set: {names}"),
    "no_quota_targets": ("尚无目标设定任务分解。", "No target has district quotas yet."),
    "league_title": ("旗区排名（有旗区分解的目标）", "District league (targets with district scope)"),
    "league_score": ("平均完成进度", "Mean progress"),
    "league_on_track": ("达标或正常推进", "Achieved or on track"),
    # bureaus
    "bureau_targets": ("牵头目标及状态", "Targets led and their status"),
    "completeness": ("报送完整率", "Reporting completeness"),
    "timeliness": ("报送及时率", "Reporting timeliness"),
    "expected_reports": ("应报", "Expected"),
    "received_reports": ("已报", "Received"),
    "on_time_reports": ("按时", "On time"),
    "late_reports": ("迟报", "Late"),
    "due_rule": ("每月数据应于次月{day}日前报送", "Each month's report is due by day {day} of the next month"),
    "completeness_12": ("报送完整率（近12个月）", "Completeness (last 12 months)"),
    "completeness_3": ("报送完整率（近3个月）", "Completeness (last 3 months)"),
    "rates_basis": (
        "应报、已报和报送及时率自{start}起计；报送完整率按截至{month}的近12个月和近3个月计，尚未到截止日且未报送的月份不计入应报。",
        "Expected, received and timeliness count from {start}; completeness covers the last 12 and the last 3 "
        "months to {month}. A month whose due day has not passed and that has not been reported is not "
        "counted as expected.",
    ),
    # the as-of month select: a month whose reports are not all due yet
    "month_incomplete": ("{month}（未截止，已报送{share}）", "{month} (not yet due, {share} reported)"),
    "month_incomplete_note": (
        "{month}的报送截止日为{due}，目前{received}/{expected}个责任单位已报送（{share}），结果不完整；默认查看已截止的最近月份{closed}。",
        "Reports for {month} are due on {due}; {received} of {expected} bureaus have reported so far ({share}), so "
        "the results are incomplete. By default the app shows {closed}, the latest month whose reports are due.",
    ),
    # data quality
    "missing_reports": ("缺报", "Missing reports"),
    "late_list": ("迟报", "Late reports"),
    "outliers": ("异常值提示", "Outlier warnings"),
    "rejected": ("被拒绝的行", "Rejected rows"),
    "audit": ("操作日志", "Audit log"),
    "dq_own_history": ("本单位报送记录", "Your bureau's submissions"),
    "nothing": ("无", "None"),
    # upload
    "up_template": ("下载模板", "Template"),
    "up_upload": ("上传月报", "Upload"),
    "up_correct": ("更正历史数据", "Correct a month"),
    "up_history": ("报送记录", "Submission history"),
    "up_status": ("报送情况", "Reporting status"),
    "up_download_template": ("下载模板（{n}行）", "Download template ({n} rows)"),
    "up_choose": ("选择文件", "Choose a file"),
    "up_checking": ("正在校验……", "Checking…"),
    "up_loading": ("正在导入……", "Loading…"),
    "up_rejected": (
        "文件有{n}个问题，未导入，数据未做任何更改。请按下表修改后重新上传。",
        "The file has {n} problem(s); nothing was loaded. Fix them and upload again.",
    ),
    "up_row": ("行", "Row"),
    "up_column": ("列", "Column"),
    "up_reason": ("问题", "Problem"),
    "up_download_problems": ("下载问题清单", "Download the rejected rows"),
    "up_commit": ("确认导入", "Load it"),
    "up_fix_reason": ("更正原因（必填）", "Reason for the correction (required)"),
    "up_fix_submit": ("提交更正", "Submit correction"),
    "up_fix_reason_required": ("请填写更正原因。", "A reason is required."),
    "up_rejected_many": (
        "发现{n}个问题，文件未导入（仅列出前{shown}个），数据未做任何更改。请按下表修改后重新上传。",
        "{n} problems found; nothing was loaded (only the first {shown} are listed). Fix them and upload again.",
    ),
    "up_changes": (
        "本文件将修改{n}个已报送的数值（见下表），导入前请填写修改原因。",
        "This file changes {n} figure(s) already reported (below); give a reason before loading.",
    ),
    "up_change_reason": ("修改原因（必填）", "Reason for the changes (required)"),
    "up_change_reason_required": (
        "本文件修改了已报送的数值，请先填写修改原因。",
        "This file changes figures already reported: give a reason first.",
    ),
    "tc_old_value": ("原数值", "Reported"),
    "tc_new_value": ("新数值", "New figure"),
    # admin
    "adm_users": ("账号管理", "Accounts"),
    "adm_targets": ("目标配置", "Targets"),
    "adm_add": ("新增账号", "Add account"),
    "adm_new_password": ("新密码（重置时填写）", "New password (for reset)"),
    "adm_disable": ("停用", "Disable"),
    "adm_enable": ("启用", "Enable"),
    "adm_reset": ("重置密码", "Reset password"),
    "adm_not_self": ("不能停用自己的账号。", "You cannot disable your own account."),
    "adm_state": ("状态", "State"),
    "adm_state_active": ("启用", "Active"),
    "adm_state_disabled": ("已停用", "Disabled"),
    "adm_state_locked": ("已锁定", "Locked"),
    "adm_locked_until": ("锁定至", "Locked until"),
    "adm_failed_count": ("连续失败次数", "Failures in a row"),
    "adm_display_name": ("姓名", "Name"),
    "adm_targets_help": (
        "当前 targets.yaml：{kpis}个指标，{targets}项目标。修改文件后点击重新加载（先校验，有错不生效）。",
        "targets.yaml now has {kpis} KPIs and {targets} targets. After editing it, reload (validated first).",
    ),
    "adm_reload": ("重新加载 targets.yaml", "Reload targets.yaml"),
    "adm_reloaded": ("已重新加载。", "Reloaded."),
    "adm_unchanged": ("targets.yaml 未变化。", "targets.yaml has not changed."),
    "adm_audit_note": ("操作日志只读，任何人不能在系统中修改。", "The audit log is read-only in the app."),
    # common
    "unit": ("单位", "Unit"),
    "month": ("月份", "Month"),
    "value": ("数值", "Value"),
    "download_csv": ("下载CSV", "Download CSV"),
    "data_source": ("数据来源：各责任单位月报", "Source: monthly reports of the responsible bureaus"),
    # briefing export (monitor/briefing/, pages/briefing.py)
    "brief_title": ("服务暖城“新市民”0477系列措施 进展简报", "0477 Measures for New Residents: Progress Briefing"),
    "brief_intro": (
        "生成领导会议用的简报：PPT（16:9）、PDF（打印用）、Excel 计分卡和图表文件，数据截至{month}。",
        "Build the meeting briefing: slides (16:9), a PDF for printing, the Excel scorecard and the charts, "
        "as of {month}.",
    ),
    "brief_targets": ("目标（不选则包含上述条件下的全部目标）", "Targets (none: every target matching the above)"),
    "brief_count": ("将包含{n}项目标，PPT共{slides}页。", "{n} targets, {slides} slides."),
    "brief_generate": ("生成简报", "Generate briefing"),
    "brief_started": ("正在准备数据", "Preparing the data"),
    "brief_progress": ("正在生成（{i}/{n}）：{label}", "Generating ({i}/{n}): {label}"),
    "brief_done": ("简报已生成（{n}项目标，{seconds:.1f}秒）。", "Briefing ready ({n} targets, {seconds:.1f} s)."),
    "brief_failed": ("简报生成失败：{error}", "The briefing failed: {error}"),
    "brief_stale": (
        "筛选条件或数据月份已更改，下列文件仍按上次条件生成；如需更新请重新生成。",
        "The filters or the month changed: these files are from the previous run; generate again to update.",
    ),
    "brief_files_for": ("已生成的文件（{month}，{n}项目标）", "Files generated ({month}, {n} targets)"),
    "brief_dl_deck": ("下载PPT", "Download slides (PPTX)"),
    "brief_dl_pdf": ("下载PDF", "Download PDF"),
    "brief_dl_xlsx": ("下载Excel", "Download Excel"),
    "brief_dl_charts": ("下载图表（PNG/SVG）", "Download charts (PNG/SVG)"),
    "brief_file_stem": ("0477进展简报", "0477-briefing"),
    "brief_summary": ("总体进展", "Overall progress"),
    "brief_status_chart": ("目标状态分布", "Targets by status"),
    "brief_items": ("项", "targets"),
    "brief_worst": ("最需关注的{n}项目标", "The {n} targets needing most attention"),
    "brief_legend": ("状态", "Status"),
    "brief_generated": ("生成时间", "Generated"),
    "brief_demo": ("演示数据（合成数据，非真实统计）", "Demo data (synthetic, not real statistics)"),
    "brief_missing_title": ("责任单位缺报情况", "Missing monthly reports"),
    "brief_missing_intro": (
        "截至{month}，以下责任单位有月份未报送数据：",
        "As of {month}, these bureaus have months without a report:",
    ),
    "brief_missing_none": (
        "截至{month}，各责任单位月报均已报送。",
        "As of {month}, every bureau has sent every report.",
    ),
    "brief_missing_count": ("缺报月数", "Months missing"),
    "brief_missing_months": ("缺报月份", "Missing months"),
    "sheet_scorecard": ("计分卡", "Scorecard"),
    "sheet_districts": ("分旗区", "Districts"),
    "sheet_reporting": ("报送情况", "Reporting"),
    "col_target_id": ("目标编码", "Target id"),
    "col_district_id": ("旗区编码", "District id"),
    "col_district_goal": ("旗区目标（依据见说明）", "District target (basis in the reason)"),
    # record tables (monitor/tables.py): submissions, warnings, rejected rows, the audit log
    "tc_submission_id": ("报送编号", "Submission"),
    "tc_submitted_at": ("提交时间", "Submitted at"),
    "tc_file_name": ("文件", "File"),
    "tc_kpi": ("指标", "KPI"),
    "tc_rows_total": ("总行数", "Rows"),
    "tc_rows_loaded": ("新增/修订", "New or revised"),
    "tc_rows_unchanged": ("未变化", "Unchanged"),
    "tc_rows_rejected": ("被拒绝", "Rejected"),
    "tc_outcome": ("结果", "Outcome"),
    "tc_message": ("提示", "Warning"),
    "tc_revision": ("版本", "Revision"),
    "tc_figures": ("数据条数", "Figures"),
    "tc_revisions": ("其中修订", "Of which revised"),
    "tc_first_period": ("起始月份", "From"),
    "tc_last_period": ("截止月份", "To"),
    "revisions_caption": ("修订记录（旧值保留）", "Revisions (earlier values kept)"),
    "tc_event_id": ("序号", "No."),
    "tc_logged_at": ("时间", "Time"),
    "tc_action": ("操作", "Action"),
    "tc_detail": ("详情", "Detail"),
    "tc_due_date": ("应报日期", "Due"),
    "tc_first_submitted_at": ("首次报送时间", "First sent"),
    "outcome_accepted": ("已导入", "Accepted"),
    "outcome_rejected": ("已拒绝", "Rejected"),
    "outcome_duplicate": ("重复文件", "Duplicate"),
    "act_sign_in": ("登录", "Signed in"),
    "act_sign_out": ("退出登录", "Signed out"),
    "act_sign_in_failed": ("登录失败", "Sign-in failed"),
    "act_sign_in_refused": ("拒绝登录（锁定或停用）", "Sign-in refused (locked or disabled)"),
    "act_upload_accepted": ("上报已导入", "Upload accepted"),
    "act_upload_rejected": ("上报被拒绝", "Upload rejected"),
    "act_upload_duplicate": ("重复上报（未导入）", "Duplicate upload (not loaded)"),
    "act_revision": ("数据更正", "Correction"),
    "act_user_add": ("新增账号", "Account added"),
    "act_user_enable": ("启用账号", "Account enabled"),
    "act_user_disable": ("停用账号", "Account disabled"),
    "act_user_reset_password": ("重置密码", "Password reset"),
    "act_targets_reload": ("重新加载目标", "Targets reloaded"),
    "act_rebuild": ("从存档重建", "Rebuilt from the archive"),
    # what targets.yaml assumes until the lead bureau confirms it (Target.assumed; fmt.assumed_mark)
    "assumed": ("假设，待确认", "assumed, to be confirmed"),
    "assumed_baseline": ("基线", "baseline"),
    "assumed_deadline": ("期限", "deadline"),
    "assumed_tolerance": ("左右范围", "range of 'about'"),
    "assumed_reading": ("计数口径", "reading of the count"),
    "assumed_milestones": ("阶段节点", "milestones"),
    "assumed_caption": (
        "本目标的{items}为假设值，待责任单位确认",
        "This target's {items}: assumed, to be confirmed by the lead bureau",
    ),
    "col_assumed": ("假设，待确认", "Assumed, to be confirmed"),
    "baseline": ("基线", "Baseline"),
    "goal_range": ("左右范围", "Range"),
    "milestones_label": ("阶段节点", "Milestones"),
    # -- helper "admin-lang" (issue 16): admin messages, audit sentences (monitor/audit_text.py),
    # the uploader's own words, the correction form (pages/upload.py, etl/correct.py) --
    "adm_added_user": ("已新增用户 {user}（{who}）", "User {user} added ({who})"),
    "adm_disabled_user": ("已停用用户 {user}，其登录会话已结束", "User {user} disabled; their sessions have ended"),
    "adm_enabled_user": (
        "已启用用户 {user}，可重新登录（如有锁定已解除）",
        "User {user} enabled and may sign in again",
    ),
    "adm_reset_user": (
        "已重置用户 {user} 的密码，其登录会话已结束",
        "Password of user {user} reset; their sessions have ended",
    ),
    "adm_pick_bureau": (
        "填报人员和审核人员须选择所属责任单位；领导和管理员不属于某个责任单位。",
        "Reporters and approvers belong to one bureau; leaders and administrators to none.",
    ),
    "aud_who": ("{role}，{bureau}", "{role}, {bureau}"),
    "aud_user_add": ("新增用户 {user}（{who}）", "Added user {user} ({who})"),
    "aud_user_disable": ("停用用户 {user}", "Disabled user {user}"),
    "aud_user_enable": ("启用用户 {user}", "Enabled user {user}"),
    "aud_user_reset_password": ("重置用户 {user} 的密码", "Reset the password of user {user}"),
    "aud_sign_in": ("登录", "Signed in"),
    "aud_sign_in_sso": ("通过统一身份认证登录", "Signed in through single sign-on"),
    "aud_sign_out": ("退出登录", "Signed out"),
    "aud_failed_unknown": ("登录失败：账号不存在", "Sign-in failed: no such account"),
    "aud_failed_password": ("登录失败：密码错误（连续第{n}次）", "Sign-in failed: wrong password ({n} in a row)"),
    "aud_failed_locked": (
        "登录失败：密码错误（连续第{n}次），账号已锁定",
        "Sign-in failed: wrong password ({n} in a row); the account is now locked",
    ),
    "aud_refused_locked": ("拒绝登录：账号已锁定", "Sign-in refused: the account is locked"),
    "aud_refused_disabled": ("拒绝登录：账号已停用", "Sign-in refused: the account is disabled"),
    "aud_refused_changed": (
        "拒绝登录：登录过程中账号被停用、锁定或重置了密码",
        "Sign-in refused: the account was disabled, locked or given a new password meanwhile",
    ),
    "aud_upload": (
        "{bureau}上报 {file}：{rows}行，导入{loaded}条，修订{revised}条",
        "{bureau} sent {file}: {rows} rows, {loaded} figures loaded, {revised} revised",
    ),
    "aud_revision": (
        "{bureau}更正数据：修订{revised}条，原因：{reason}",
        "{bureau} corrected figures: {revised} revised; reason: {reason}",
    ),
    "aud_pending": ("（待审核）", " (awaiting approval)"),
    "aud_upload_rejected": (
        "{bureau}上报 {file} 被拒绝：{problems}个问题",
        "{bureau} sent {file}: rejected, {problems} problem(s)",
    ),
    "aud_upload_duplicate": (
        "重复上报 {file}（与第{same}次报送相同），未导入",
        "{file} sent again (same as submission {same}); nothing loaded",
    ),
    "aud_targets_reload": (
        "重新加载目标配置：{kpis}个指标、{targets}项目标",
        "Reloaded the targets: {kpis} KPIs, {targets} targets",
    ),
    "aud_rebuild": (
        "从存档重建数据库：重放{files}个文件，保留{accounts}个账号",
        "Rebuilt the warehouse from the archive: {files} files replayed, {accounts} accounts kept",
    ),
    "aud_review_approve": ("审核通过第{id}次报送（{bureau}）", "Approved submission {id} ({bureau})"),
    "aud_review_return": (
        "退回第{id}次报送（{bureau}）：{comment}",
        "Returned submission {id} ({bureau}): {comment}",
    ),
    "aud_approval_on": ("{bureau}：报送需要审核", "{bureau}: submissions need approval"),
    "aud_approval_off": ("{bureau}：报送无需审核", "{bureau}: submissions count without approval"),
    "aud_explanation_save": (
        "保存情况说明：{target}（{bureau}，{month}）",
        "Saved an explanation: {target} ({bureau}, {month})",
    ),
    "aud_reminder_push": (
        "推送{month}催报提醒至 {host}：{bureaus}（{outcome}）",
        "Pushed the {month} reminder to {host}: {bureaus} ({outcome})",
    ),
    "aud_target_setting": (
        "确认目标口径或任务分解：{target}，原因：{reason}",
        "Set a target term or quotas: {target}; reason: {reason}",
    ),
    "aud_action_open": (
        "交办督办事项第{id}号：{target}（{bureau}）：{asked}",
        "Opened follow-up action {id}: {target} ({bureau}): {asked}",
    ),
    "aud_action_step": ("{what}第{id}号：{note}", "{what} {id}: {note}"),
    "aud_fallback_pair": ("{field}：{value}", "{field}: {value}"),
    "aud_pair_sep": ("；", ". "),
    "aud_push_ok": ("已送达", "delivered"),
    "aud_push_failed": ("未送达：{code}", "not delivered: {code}"),
    "aud_none": ("无", "none"),
    # the correction form: fields and figures, never files or cells
    "fix_current": ("现有数值：{value}", "Current figure: {value}"),
    "fix_current_none": (
        "该月尚无数值，提交后即为首次报送。",
        "No figure yet for this month: yours will be the first.",
    ),
    "fix_history": ("历次数值", "Earlier figures"),
    "fix_col_version": ("版本", "Version"),
    "fix_col_value": ("数值", "Figure"),
    "fix_col_when": ("报送时间", "Sent"),
    "fix_col_by": ("报送人", "By"),
    "fix_col_reason": ("更正原因", "Reason"),
    "fix_integer": ("“{field}”须为整数（单位：{unit}）", "“{field}” must be a whole number (unit: {unit})"),
    "fix_value_required": ("请填写“{field}”。", "Fill in “{field}”."),
    "fix_same": ("该数值与现有数值相同，未作更改", "This is the figure already held; nothing was changed"),
    "fix_done": (
        "已更正：{kpi}，{district}，{month}：{old} → {new}",
        "Corrected: {kpi}, {district}, {month}: {old} → {new}",
    ),
    "fix_done_first": (
        "已报送：{kpi}，{district}，{month}：{new}",
        "Reported: {kpi}, {district}, {month}: {new}",
    ),
    "fix_refused": ("未更正：{problem}", "Not corrected: {problem}"),
    # -- helper "overview" (issue 16): the overview's grid at 1366 px and on a phone, the districts
    # page's ranked list (pages/overview.py, dashboard/overview_grid.py, pages/districts.py) --
    "col_actual_goal": ("实际 / 目标", "Actual / target"),
    "league_rank": ("名次", "Rank"),
    "league_ranked": (
        "按完成进度排序：各旗区有分解的目标的平均完成进度，高者在前",
        "Ranked by progress: each district's mean progress over its targets with a district share, highest first",
    ),
    "heatmap_phone": (
        "手机屏幕放不下热力图，请看下方按完成进度排序的旗区排名，或在电脑上查看。",
        "The heat map does not fit a phone screen: see the districts ranked by progress below, or use a computer.",
    ),
    "ov_open_hint": (
        "点击一行（手机上点目标名称）打开该目标的详情。",
        "Click a row (on a phone, a target's name) to open its detail.",
    ),
    # -- helper "office formats" (issue 18): the upload page names every format read
    # (pages/upload.py; etl/office.py reads xls, WPS .et, xlsb and ods) --
    "up_rules_office": (
        "支持 xlsx、xls（Excel 97–2003）、WPS 表格（.et）、xlsb（Excel 二进制工作簿）、ods 或 csv（UTF-8 或 GBK），"
        "最大 {mb:g} MB。其他格式（如 Numbers）请在 Excel/WPS 中另存为 .xlsx 后上传。"
        "上传后先预览并校验，确认后才导入。",
        "xlsx, xls (Excel 97–2003), WPS spreadsheet (.et), xlsb (Excel binary workbook), ods or csv (UTF-8 or GBK), "
        "at most {mb:g} MB. Save any other kind (Numbers, for one) as .xlsx in Excel or WPS first. "
        "You see a preview and every problem before loading.",
    ),
    "up_drop_help_office": (
        "点击下方“Upload”按钮选择文件，或将文件拖到框内；框内“{mb:g}MB per file • XLSX, XLS, ET, XLSB, ODS, CSV”"
        "意为单个文件不超过{mb:g}MB，格式为 XLSX、XLS、ET、XLSB、ODS 或 CSV。",
        "Click Upload below or drag the file onto the box: one file of at most {mb:g} MB, "
        "XLSX, XLS, ET, XLSB, ODS or CSV.",
    ),
}


def _merged(*parts: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One catalogue from its parts; a key in two parts is a bug (which wording would win is hidden)."""
    merged: dict[str, tuple[str, str]] = {}
    for part in parts:
        twice = merged.keys() & part.keys()
        if twice:
            raise KeyError(f"i18n keys defined twice: {sorted(twice)}")
        merged.update(part)
    return merged


CATALOGUE = _merged(CATALOGUE, MONTH_CATALOGUE)


class CatalogueError(ValueError):
    """A refusal whose text is in the catalogue (key and params): a page shows it in the user's
    language (``text(lang)``); str() gives both, for the command line and logs."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(f"{self.text('zh')} / {self.text('en')}")

    def text(self, lang: Lang) -> str:
        return t(self.key, lang, **self.params)


def t(key: str, lang: Lang = "zh", **kwargs: object) -> str:
    """The string for key in lang; format placeholders with kwargs. A missing key is a bug: KeyError."""
    zh, en = CATALOGUE[key]
    text = zh if lang == "zh" else en
    return text.format(**kwargs) if kwargs else text


def status_label(status: str, lang: Lang = "zh") -> str:
    zh, en = STATUS_LABELS[status]
    return zh if lang == "zh" else en


def name(row: object, lang: Lang = "zh", field: str = "name") -> str:
    """name_zh / name_en of a record (dict, Series or namedtuple)."""
    key = f"{field}_{lang}"
    return (
        row[key]
        if isinstance(row, dict) or (hasattr(row, "__getitem__") and not hasattr(row, "_fields"))
        else getattr(row, key)
    )
