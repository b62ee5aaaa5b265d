-- Grain: one row per outcome and chosen cuts (partner, period) over cohort members.
-- attainment. Parameters: outcome_rules (the place's outcomes) and commitments (partners').
-- A person joins an outcome's cohort at their first current event (by time) of the rule's kinds
-- whose need is one of the rule's needs (any, if none listed) at an agency of one of its sectors
-- (any, if none). An event's need: its own for referrals and contacts, the service's needs for a
-- service start (its referral's need, else the place's needs for the service), none for an
-- assessment. The period is the outcome's block of period_months calendar months (from January)
-- the joining month falls in, shown 'YYYY-MM/YYYY-MM'; the period filter is on the joining month.
-- A member attains it when the outcome code is recorded at or above min_value by an allowed
-- reporter, at or after joining and within within_days of it. A commitment's members are the
-- cohort members the partner served: a service started at the partner at or after joining and
-- within within_days of it. Without the partner cut the rows are whole cohorts; with it, one
-- row per commitment. target_percent is the outcome's target, or the commitment's own.
with candidate_events as (
    select person, agency, sector, type, time, position, local_month, need
    from current_events
    where type in ('referral.made', 'contact.recorded', 'assessment.completed')
    union all
    select person, agency, sector, type, time, position, local_month, need
    from service_needs
    where type = 'service.started'
),

joined as (
    select
        outcome_rules.outcome,
        candidate_events.person,
        min(candidate_events.time) as joined_at,
        arg_min(
            candidate_events.local_month, (candidate_events.time, candidate_events.position)
        ) as month
    from outcome_rules
    inner join candidate_events
        on list_contains(outcome_rules.events, candidate_events.type)
        and (len(outcome_rules.needs) = 0 or list_contains(outcome_rules.needs, candidate_events.need))
        and (len(outcome_rules.sectors) = 0 or list_contains(outcome_rules.sectors, candidate_events.sector))
    group by outcome_rules.outcome, candidate_events.person
),

members as (
    select
        *,
        cast(left(month, 4) as integer) * 12 + cast(right(month, 2) as integer) - 1 as month_index
    from joined
),

scored as (
    select
        members.*,
        outcome_rules.within_days,
        outcome_rules.target_percent,
        month_index - month_index % outcome_rules.period_months as period_index,
        outcome_rules.period_months,
        exists (
            select 1 from current_events as recorded
            where recorded.type = 'outcome.recorded'
                and recorded.person = members.person
                and recorded.outcome = members.outcome
                and recorded.value >= outcome_rules.min_value
                and list_contains(outcome_rules.reported_by, recorded.reported_by)
                and recorded.time >= members.joined_at
                and epoch(recorded.time) - epoch(members.joined_at)
                <= outcome_rules.within_days * 86400
        ) as is_attained
    from members
    inner join outcome_rules on outcome_rules.outcome = members.outcome
),

cohorts as (
    select
        outcome,
        null::varchar as partner,
        person,
        month,
        printf(
            '%04d-%02d/%04d-%02d',
            period_index // 12, period_index % 12 + 1,
            (period_index + period_months - 1) // 12, (period_index + period_months - 1) % 12 + 1
        ) as period,
        target_percent,
        is_attained
    from scored
),

served as (
    select
        scored.outcome,
        commitments.partner,
        scored.person,
        cohorts.month,
        cohorts.period,
        commitments.target_percent,
        scored.is_attained
    from scored
    inner join cohorts on cohorts.outcome = scored.outcome and cohorts.person = scored.person
    inner join commitments on commitments.outcome = scored.outcome
    where exists (
        select 1 from service_starts
        where service_starts.agency = commitments.partner
            and service_starts.person = scored.person
            and service_starts.started_at >= scored.joined_at
            and epoch(service_starts.started_at) - epoch(scored.joined_at)
            <= scored.within_days * 86400
    )
),

units as (
    select * from cohorts
    where not $by_partner
    union all
    select * from served
    where $by_partner
),

in_period as (
    select * from units
    where month between $period_from and $period_to
),

final as (
    select
        {{ dims }}
        count(*) as count_cohort,
        count(*) filter (where is_attained) as count_attained,
        max(target_percent) as target_percent
    from in_period
    group by all
)

select * from final
