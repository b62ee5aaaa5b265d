-- Grain: one row per chosen cuts (locality, month) over person-months.
-- many_agencies. For each month of the record and each person with any current event in the 12
-- months to its end (that month and the 11 before, by month in the place zone), count the
-- distinct agencies with any event about the person in that window. The person is placed in
-- the locality of their latest event in the window. count_people: people with any event in the
-- window; count_many_agencies: those known to 3 or more agencies. A unit's key: its person's.
with person_events as (
    select
        person,
        person_key,
        agency,
        locality,
        time,
        position,
        event_id,
        cast(left(local_month, 4) as integer) * 12 + cast(right(local_month, 2) as integer)
        - 1 as month_index
    from current_events
),

windows as (
    select
        calendar_months.month,
        person_events.person,
        any_value(person_events.person_key) as person_key,
        count(distinct person_events.agency) as count_agencies,
        arg_max(person_events.locality, (person_events.time, person_events.event_id)) as locality
    from calendar_months
    inner join person_events
        on person_events.month_index between calendar_months.month_index - 11
        and calendar_months.month_index
    group by calendar_months.month, person_events.person
),

in_period as (
    select * from windows
    where month between $period_from and $period_to
),

final as (
    select
        {{ dims }}
        count(*) as count_people,
        count(*) filter (where count_agencies >= 3) as count_many_agencies,
        sum(person_key) as key_people,
        sum(person_key) filter (where count_agencies >= 3) as key_many_agencies
    from in_period
    group by all
)

select * from final
