-- Grain: one row per chosen cuts (agency pair, month) over declined referrals.
-- bounces. Every current referral.declined (redirections included) counts once, in the month it
-- was declined, under the pair (from_agency: the referring agency, to_agency: the declining
-- one); count_redirected: those with reason 'redirected'. Ping-pong: a decline is a pass-on of
-- the person for the declined referral's need; a person is passed on three or more times when a
-- decline is at least their third for that need since their latest service start (any service,
-- at or before the decline). count_people_ping_pong counts each such person once a month, under
-- the pair of their first such decline that month. A decline's unit key is its record's; a
-- person's, theirs.
with decline_rows as (
    select
        declines.*,
        (
            select max(service_starts.started_at) from service_starts
            where service_starts.person = declines.person
                and service_starts.started_at <= declines.declined_at
        ) as last_started_at
    from declines
),

chains as (
    select
        decline_rows.*,
        (
            select count(*) from declines as earlier
            where earlier.person = decline_rows.person
                and earlier.need = decline_rows.need
                and (earlier.declined_at, earlier.event_id)
                <= (decline_rows.declined_at, decline_rows.event_id)
                and (decline_rows.last_started_at is null
                    or earlier.declined_at > decline_rows.last_started_at)
        ) as count_passes
    from decline_rows
),

marked as (
    select
        *,
        count_passes >= 3 and row_number() over (
            partition by person, declined_month, count_passes >= 3
            order by declined_at, event_id
        ) = 1 as is_ping_pong_person
    from chains
),

in_period as (
    select
        declined_month as month, from_agency, to_agency, reason, is_ping_pong_person, record_key,
        person_key
    from marked
    where declined_month between $period_from and $period_to
),

final as (
    select
        {{ dims }}
        count(*) as count_declined,
        count(*) filter (where reason = 'redirected') as count_redirected,
        count(*) filter (where is_ping_pong_person) as count_people_ping_pong,
        sum(record_key) as key_declined,
        sum(record_key) filter (where reason = 'redirected') as key_redirected,
        sum(person_key) filter (where is_ping_pong_person) as key_people_ping_pong
    from in_period
    group by all
)

select * from final
