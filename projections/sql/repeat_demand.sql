-- Grain: one row per chosen cuts (locality, need, month) over person-need-months.
-- repeat_demand. Demand events: current referrals made and contacts recorded with a need. The
-- unit is a person with demand for a need in a month (a person-need-month), placed in the
-- locality of its first demand event that month. It is repeat demand when one of its events
-- follows an earlier demand event of the same person and need by more than 0 and at most 90
-- days. Such a repeat is failure demand when, in the 90 days before it (strictly before it), a
-- referral of the person for the need was declined (redirections included; the need is the
-- declined referral's) or a service for the need ended other than 'completed' (a service's
-- needs: its referral's need, else the place's needs for the service).
-- count_people: person-need-months; count_repeat: those with repeat demand; count_failure:
-- those with failure demand; each unit's key is its person's (person_key). Rates: repeat of people, failure of repeat.
with demand_events as (
    select person, person_key, need, locality, local_month as month, time, position, event_id
    from current_events
    where type in ('referral.made', 'contact.recorded') and need is not null
),

failures as (
    select person, need, declined_at as failed_at from declines
    where need is not null
    union all
    select person, need, time as failed_at from service_needs
    where type = 'service.ended' and coalesce(reason, '') <> 'completed' and need is not null
),

flagged as (
    select
        demand_events.*,
        exists (
            select 1 from demand_events as earlier
            where earlier.person = demand_events.person
                and earlier.need = demand_events.need
                and earlier.time < demand_events.time
                and epoch(demand_events.time) - epoch(earlier.time) <= 90 * 86400
        ) as is_repeat,
        exists (
            select 1 from failures
            where failures.person = demand_events.person
                and failures.need = demand_events.need
                and failures.failed_at < demand_events.time
                and epoch(demand_events.time) - epoch(failures.failed_at) <= 90 * 86400
        ) as follows_failure
    from demand_events
),

person_need_months as (
    select
        person,
        need,
        month,
        any_value(person_key) as person_key,
        arg_min(locality, (time, event_id)) as locality,
        bool_or(is_repeat) as is_repeat,
        bool_or(is_repeat and follows_failure) as is_failure
    from flagged
    group by person, need, month
),

in_period as (
    select * from person_need_months
    where month between $period_from and $period_to
),

final as (
    select
        {{ dims }}
        count(*) as count_people,
        count(*) filter (where is_repeat) as count_repeat,
        count(*) filter (where is_failure) as count_failure,
        sum(person_key) as key_people,
        sum(person_key) filter (where is_repeat) as key_repeat,
        sum(person_key) filter (where is_failure) as key_failure
    from in_period
    group by all
)

select * from final
