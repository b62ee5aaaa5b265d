-- Grain: one row per pathway and chosen cuts (locality, need, year) over people.
-- journeys. Each person with current events is one unit. Their pathway is the first three
-- distinct agencies they met, in order of their first event at each (by time, then event id),
-- joined with ' > ' (fewer when they met fewer). locality and year (and the period filter's month)
-- are those of their first event; need is that of their first referral or contact with a need
-- (NULL if none). count_served: people with a service start; median_first_service_days: days
-- from their first event to their first service start. count_services_ended and
-- count_disengaged: their services ended, and those ended 'disengaged'. Unit keys: a person's
-- (person_key) for people, a service end's record key for services ended.
with ordered as (
    select
        person,
        person_key,
        record_key,
        agency,
        type,
        time,
        position,
        event_id,
        locality,
        local_month,
        need,
        reason,
        row_number() over (partition by person order by time, event_id) as event_rank
    from current_events
),

first_events as (
    select
        person, person_key, locality, local_month as month, left(local_month, 4) as year,
        time as first_at
    from ordered
    where event_rank = 1
),

agencies_met as (
    select person, agency, min(event_rank) as first_rank
    from ordered
    group by person, agency
),

pathways as (
    select
        person,
        string_agg(agency, ' > ' order by first_rank) as pathway
    from (
        select
            *,
            row_number() over (partition by person order by first_rank) as agency_rank
        from agencies_met
    )
    where agency_rank <= 3
    group by person
),

person_facts as (
    select
        person,
        arg_min(need, event_rank) filter (
            where type in ('referral.made', 'contact.recorded') and need is not null
        ) as need,
        min(time) filter (where type = 'service.started') as first_service_at,
        count(*) filter (where type = 'service.ended') as count_services_ended,
        count(*) filter (where type = 'service.ended' and reason = 'disengaged')
        as count_disengaged,
        sum(record_key) filter (where type = 'service.ended') as key_services_ended,
        sum(record_key) filter (where type = 'service.ended' and reason = 'disengaged')
        as key_disengaged
    from ordered
    group by person
),

people as (
    select
        first_events.*,
        pathways.pathway,
        person_facts.need,
        person_facts.count_services_ended,
        person_facts.count_disengaged,
        person_facts.key_services_ended,
        person_facts.key_disengaged,
        (epoch(person_facts.first_service_at) - epoch(first_events.first_at))
        / 86400.0 as first_service_days
    from first_events
    inner join pathways on pathways.person = first_events.person
    inner join person_facts on person_facts.person = first_events.person
),

in_period as (
    select * from people
    where month between $period_from and $period_to
),

final as (
    select
        {{ dims }}
        count(*) as count_people,
        count(first_service_days) as count_served,
        quantile_cont(first_service_days, 0.5) as median_first_service_days,
        coalesce(sum(count_services_ended), 0)::bigint as count_services_ended,
        coalesce(sum(count_disengaged), 0)::bigint as count_disengaged,
        sum(person_key) as key_people,
        sum(person_key) filter (where first_service_days is not null) as key_served,
        sum(key_services_ended) as key_services_ended,
        sum(key_disengaged) as key_disengaged
    from in_period
    group by all
)

select * from final
