"""The warehouse's schema as SQL: the migrations (one per version) and the views every reader uses.

Only monitor.db executes these (it owns DuckDB); they live apart so the connection code and the
schema each stay readable.
"""

from __future__ import annotations

# Each migration moves the schema from version i to i+1; never edit one that has shipped,
# append a new one so an existing warehouse file is upgraded in place.
MIGRATIONS: list[str] = [
    # 0 -> 1
    """
    create table if not exists bureaus (
        bureau_id varchar primary key,
        name_zh varchar not null,
        name_en varchar not null
    );
    create table if not exists districts (
        district_id varchar primary key,
        name_zh varchar not null,
        name_en varchar not null,
        kind varchar not null,
        sort_order integer not null
    );
    create table if not exists kpis (
        kpi_id varchar primary key,
        section varchar not null,
        name_zh varchar not null,
        name_en varchar not null,
        unit_zh varchar not null,
        unit_en varchar not null,
        value_type varchar not null,
        reporting varchar not null,
        aggregation varchar not null,
        lead_bureau varchar not null,
        co_bureaus varchar[] not null,
        activity boolean not null,
        source varchar not null,
        sort_order integer not null
    );
    create table if not exists targets (
        target_id varchar primary key,
        kpi_id varchar not null,
        section varchar not null,
        name_zh varchar not null,
        name_en varchar not null,
        kind varchar not null,
        comparator varchar not null,
        target_value double not null,
        tolerance double,
        deadline date not null,
        start_date date not null,
        baseline_value double,
        baseline_date date,
        scope varchar[] not null,
        milestones_json varchar not null,
        source varchar not null,
        note varchar,
        sort_order integer not null
    );
    create sequence if not exists submission_seq start 1;
    create table if not exists submissions (
        submission_id integer primary key,
        bureau_id varchar not null,
        user_name varchar not null,
        submitted_at timestamp not null,
        file_name varchar not null,
        sha256 varchar not null,
        file_bytes bigint not null,
        rows_total integer not null,
        rows_loaded integer not null,
        rows_unchanged integer not null,
        rows_rejected integer not null,
        outcome varchar not null,
        reason varchar,
        archive_name varchar
    );
    create table if not exists observations (
        kpi_id varchar not null,
        district_id varchar not null,
        period date not null,
        value double not null,
        revision integer not null,
        submission_id integer not null,
        source_row integer not null,
        loaded_at timestamp not null
    );
    create table if not exists rejected_rows (
        submission_id integer not null,
        file_name varchar not null,
        row_number integer,
        column_name varchar,
        value varchar,
        reason_zh varchar not null,
        reason_en varchar not null
    );
    create table if not exists load_warnings (
        submission_id integer not null,
        row_number integer,
        kpi_id varchar,
        district_id varchar,
        period date,
        value double,
        message_zh varchar not null,
        message_en varchar not null
    );
    create sequence if not exists audit_seq start 1;
    create table if not exists audit_log (
        event_id bigint primary key,
        logged_at timestamp not null,
        user_name varchar not null,
        action varchar not null,
        detail varchar not null
    );
    create table if not exists meta (
        key varchar primary key,
        value varchar not null
    );
    """,
    # 1 -> 2: local accounts (argon2 hashes only)
    """
    create table if not exists users (
        user_name varchar primary key,
        display_name varchar not null,
        role varchar not null,
        bureau_id varchar,
        password_hash varchar not null,
        active boolean not null,
        failed_count integer not null,
        locked_until timestamp,
        created_at timestamp not null,
        updated_at timestamp not null
    );
    """,
    # 2 -> 3: sessions end when an account is disabled or its password reset (the epoch moves on);
    # a rejected file keeps only its first problems, so the total is stored beside them; rows whose
    # value cell is empty mean "not reported this month" and are counted, not loaded.
    """
    alter table users add column session_epoch integer default 0;
    alter table submissions add column problems_total integer default 0;
    alter table submissions add column rows_skipped integer default 0;
    """,
    # 3 -> 4: what the lead bureau confirmed or corrected of targets.yaml's assumptions, and district
    # quotas (任务分解). Append-only: every change is a new row (its setting_id is its version), the
    # newest row of a (target, field, district) is in force, 'clear' withdraws a quota.
    # targets.part_of: a target the text sets inside another (其中…9500套 of the 1.5万套).
    """
    create sequence if not exists target_setting_seq start 1;
    create table if not exists target_settings (
        setting_id integer primary key,
        target_id varchar not null,
        field varchar not null,
        district_id varchar,
        value double,
        value_date date,
        action varchar not null,
        reason varchar not null,
        user_name varchar not null,
        set_at timestamp not null
    );
    alter table targets add column part_of varchar;
    alter table targets add column assumed varchar[];
    """,
    # 4 -> 5: the bureau's month. A submission is reviewed (审核) before leadership sees its figures:
    # review_status approved | pending | returned (every earlier submission was approved on load).
    # bureau_review: an admin switched approval off (or on again) for a bureau; no row = approval on.
    # observation_notes: the 备注 of a figure as the bureau wrote it. explanations: 进展情况 / 存在问题 /
    # 下步措施 of a target for a month, append-only (the newest is in force). entry_drafts: the online
    # entry grid of a bureau and month, kept until submitted.
    """
    alter table submissions add column review_status varchar default 'approved';
    alter table submissions add column reviewed_by varchar;
    alter table submissions add column reviewed_at timestamp;
    alter table submissions add column review_comment varchar;
    create table if not exists bureau_review (
        bureau_id varchar primary key,
        approval_required boolean not null,
        set_by varchar not null,
        set_at timestamp not null
    );
    create table if not exists observation_notes (
        submission_id integer not null,
        kpi_id varchar not null,
        district_id varchar not null,
        period date not null,
        note varchar not null
    );
    create sequence if not exists explanation_seq start 1;
    create table if not exists explanations (
        explanation_id integer primary key,
        bureau_id varchar not null,
        target_id varchar not null,
        period date not null,
        progress varchar not null,
        problems varchar not null,
        next_steps varchar not null,
        user_name varchar not null,
        saved_at timestamp not null
    );
    create table if not exists entry_drafts (
        bureau_id varchar not null,
        period date not null,
        user_name varchar not null,
        saved_at timestamp not null,
        cells_json varchar not null,
        primary key (bureau_id, period)
    );
    """,
    # 5 -> 6: 督办. A leader opens an action on a target for a bureau with a due date; the bureau records
    # measures and progress and asks to close; the leader closes or reopens. Append-only steps; an
    # action's state is that of its newest step.
    """
    create sequence if not exists action_seq start 1;
    create table if not exists actions (
        action_id integer primary key,
        target_id varchar not null,
        bureau_id varchar not null,
        asked varchar not null,
        due_date date not null,
        opened_by varchar not null,
        opened_at timestamp not null
    );
    create sequence if not exists action_step_seq start 1;
    create table if not exists action_steps (
        step_id integer primary key,
        action_id integer not null,
        kind varchar not null,
        note varchar not null,
        user_name varchar not null,
        step_at timestamp not null
    );
    """,
    # 6 -> 7: browser sessions (monitor/sessions.py). The cookie holds a random token; only its SHA-256
    # is stored, so the table cannot be replayed. A session ends by sign-out, idle or absolute expiry,
    # or when the account's session_epoch moves on (disabled, password reset).
    """
    create table if not exists sessions (
        token_hash varchar primary key,
        user_name varchar not null,
        session_epoch integer not null,
        created_at timestamp not null,
        last_seen_at timestamp not null,
        ended_at timestamp,
        end_reason varchar
    );
    """,
    # 7 -> 8 (PostgreSQL only): the later revisions of figures (revision <> 1, about 1% of the rows)
    # found through a partial index, so the scorecard reads them without a scan of the whole table
    # (monitor/progress/figures.py). A DuckDB file finds them through its zone maps: no index there.
    """
    -- postgresql only
    create index if not exists observations_later_revisions on observations (revision) where revision <> 1;
    """,
]

# A migration beginning with this line runs on PostgreSQL only (a DuckDB file records its version too).
POSTGRES_ONLY = "-- postgresql only"

# current_observations: the latest revision of each (kpi, district, month).
# district_values: what each reporting unit reported, with the cumulative-to-date value derived
#   for increment KPIs, so the progress engine reads one shape whatever the reporting rule.
# city_values: the city figure: the sum of districts for "sum" KPIs, the reported city row for "city"
#   KPIs; for "all" KPIs (a flag every unit must meet) the minimum over the city row and every
#   district, 1 only when all of them reported 1 that month (a unit that did not report is not done).
VIEWS = """
-- what leadership sees: figures of approved submissions. A returned submission's figures never count;
-- a pending one's only on a cursor that asked for them (set variable include_pending = true: the
-- leader's explicit, labelled choice). Observations without a submission row count (tests, benches).
create or replace view hidden_submissions as
select submission_id
from submissions
where review_status = 'returned'
   or (review_status = 'pending' and not coalesce(getvariable('include_pending'), false));

create or replace view visible_observations as
select o.*
from observations as o
anti join hidden_submissions as hidden using (submission_id);

create or replace view current_observations as
with ranked as (
    select
        o.*,
        row_number() over (
            partition by o.kpi_id, o.district_id, o.period order by o.revision desc
        ) as rn
    from visible_observations as o
)
select kpi_id, district_id, period, value, revision, submission_id, source_row, loaded_at
from ranked
where rn = 1;

-- what the bureau has submitted (approved or pending, not returned): what a new report is compared
-- with, so the same figure sent again while pending is not a new revision.
create or replace view current_reported_observations as
with reported as (
    select o.*
    from observations as o
    anti join (select submission_id from submissions where review_status = 'returned') as r using (submission_id)
),
ranked as (
    select r.*, row_number() over (partition by r.kpi_id, r.district_id, r.period order by r.revision desc) as rn
    from reported as r
)
select kpi_id, district_id, period, value, revision, submission_id, source_row, loaded_at
from ranked
where rn = 1;

create or replace view city_values as
with sum_kpis as (
    select kpi_id from kpis where aggregation = 'sum'
),
summed as (
    select c.kpi_id, 'city' as district_id, c.period, sum(c.value) as value, count(*) as n_reports
    from current_observations as c
    join sum_kpis using (kpi_id)
    where c.district_id <> 'city'
    group by c.kpi_id, c.period
),
reported as (
    select c.kpi_id, c.district_id, c.period, c.value, 1 as n_reports
    from current_observations as c
    where c.district_id = 'city'
      and c.kpi_id not in (select kpi_id from kpis where aggregation in ('sum', 'all'))
),
every_unit as (
    select c.kpi_id, 'city' as district_id, c.period,
        case when count(*) = (select count(*) from districts) then min(c.value) else 0 end as value,
        count(*) as n_reports
    from current_observations as c
    join kpis as k using (kpi_id)
    where k.aggregation = 'all'
    group by c.kpi_id, c.period
)
select * from summed
union all
select * from reported
union all
select * from every_unit;

-- target_settings in force: the newest row of each (target, field, district), unless withdrawn.
create or replace view current_target_settings as
with ranked as (
    select
        s.*,
        row_number() over (
            partition by s.target_id, s.field, coalesce(s.district_id, '') order by s.setting_id desc
        ) as rn
    from target_settings as s
)
select setting_id, target_id, field, district_id, value, value_date, action, reason, user_name, set_at
from ranked
where rn = 1 and action <> 'clear';

-- the targets as judged: targets.yaml's reading with the baselines and deadlines the lead bureau
-- confirmed (the value then in force) or corrected.
create or replace view effective_targets as
with baselines as (
    select target_id, value as baseline_value, value_date as baseline_date
    from current_target_settings
    where field = 'baseline'
),
deadlines as (
    select target_id, value_date as deadline
    from current_target_settings
    where field = 'deadline'
)
select
    -- a decision applies only while targets.yaml still assumes the item: a value the text (or a new
    -- reading of it) states is never overridden by an earlier correction
    t.* replace (
        case when list_contains(t.assumed, 'deadline') then coalesce(d.deadline, t.deadline) else t.deadline end
            as deadline,
        case when list_contains(t.assumed, 'baseline') then coalesce(b.baseline_value, t.baseline_value)
            else t.baseline_value end as baseline_value,
        case when list_contains(t.assumed, 'baseline') then coalesce(b.baseline_date, t.baseline_date)
            else t.baseline_date end as baseline_date
    )
from targets as t
left join baselines as b using (target_id)
left join deadlines as d using (target_id);

create or replace view unit_values as
select kpi_id, district_id, period, value, 1 as n_reports
from current_observations
where district_id <> 'city'
union all
select kpi_id, district_id, period, value, n_reports
from city_values;
"""

SCHEMA_VERSION = len(MIGRATIONS)

# Every sequence the migrations create: monitor.db.next_id takes only these names.
SEQUENCES = frozenset(
    {"submission_seq", "audit_seq", "target_setting_seq", "explanation_seq", "action_seq", "action_step_seq"}
)
