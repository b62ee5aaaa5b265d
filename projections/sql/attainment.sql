-- Grain: one row per outcome and chosen cuts (partner, period) over cohort members.
-- attainment. Parameters: outcome_rules (the place's outcomes) and commitments (partners').
-- A person joins an outcome's cohort at their first current event (by time) of the rule's kinds
-- whose need is one of the rule's needs (any, if none listed) at an agency of one of its sectors
-- (any, if none). An event's need: its own for referrals and contacts, the service's needs for a
-- service start (its referral's need, else the place's needs for the service), none for an
-- assessment. The period is the grid period of the outcome's length (period_months 1: the month,
-- 3: the calendar quarter, 12: the calendar year) the joining month falls in, labelled as the
-- grid labels it ('2025-03', '2025-Q1', '2025'); the period filter is on the joining month.
-- A member attains it when the outcome code is recorded at or above min_value by an allowed
-- reporter, at or after joining and within within_days of it. A commitment's members are the
-- cohort members the partner served: a service started at the partner at or after joining and
-- within within_days of it. Without the partner cut the rows are whole cohorts; with it, one
-- row per commitment. A member's unit key is their person's. target_percent is the outcome's target, or the commitment's own.
with candidate_events as (
    select person, person_key, agency, sector, type, time, position, event_id, local_month, need
    from current_events
    where type in ('referral.made', 'contact.recorded', 'assessment.completed')
    union all
    select person, person_key, agency, sector, type, time, position, event_id, local_month, need
    from service_needs
    where type = 'service.started'
),

joined as (
    select
        outcome_rules.outcome,
        candidate_events.person,
        any_value(candidate_events.person_key) as person_key,
        min(candidate_events.time) as joined_at,
        arg_min(
            candidate_events.local_month, (candidate_events.time, candidate_events.event_id)
        ) as month
    from outcome_rules
    inner join candidate_events
        on list_contains(outcome_rules.events, candidate_events.type)
        and (len(outcome_rules.needs) = 0 or list_contains(outcome_rules.needs, candidate_events.need))
        and (len(outcome_rules.sectors) = 0 or list_contains(outcome_rules.sectors, candidate_events.sector))
    group by outcome_rules.outcome, candidate_events.person
),

members as (
    select * from joined
),

scored as (
    select
        members.*,
        outcome_rules.within_days,
        outcome_rules.target_percent,
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
        person_key,
        month,
        case period_months
            when 1 then month
            when 3 then left(month, 4) || '-Q' || ((cast(right(month, 2) as integer) + 2) // 3)
            else left(month, 4)
        end as period,
        target_percent,
        is_attained
    from scored
),

served as (
    select
        scored.outcome,
        commitments.partner,
        scored.person,
        scored.person_key,
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
        sum(person_key) as key_cohort,
        sum(person_key) filter (where is_attained) as key_attained,
        max(target_percent) as target_percent
    from in_period
    group by all
)

select * from final
