-- Grain: one row per chosen cuts (agency, service, month) over service starts and waiting referrals.
-- waits. A wait is the days (exact, from the instants) from a referral made to a service
-- started through its `referral` link, counted in the month the service started, under the
-- service's agency and code: median and 90th percentile (linear interpolation) over
-- count_started starts. A referral is still waiting at the end of a month when it was made in or
-- before that month, its first response was not a decline in or before it, and no service linked
-- to it started in or before it; counted under the agency referred to and the referral's service
-- (NULL when the referral named none), in every month it waits. A unit's key: the service
-- start's record key, or the waiting referral's.
with waits as (
    select
        started_month as month,
        agency,
        service,
        record_key,
        (epoch(started_at) - epoch(referred_at)) / 86400.0 as wait_days
    from service_starts
    where referred_at is not null
),

first_starts as (
    select
        referral_agency,
        referral_ref,
        min(started_month) as started_month
    from service_starts
    where referred_at is not null
    group by referral_agency, referral_ref
),

waiting as (
    select
        calendar_months.month,
        referral_outcomes.to_agency as agency,
        referral_outcomes.service,
        referral_outcomes.record_key
    from referral_outcomes
    left join first_starts
        on first_starts.referral_agency = referral_outcomes.from_agency
        and first_starts.referral_ref = referral_outcomes.referral_ref
    inner join calendar_months
        on calendar_months.month >= referral_outcomes.referred_month
        and (first_starts.started_month is null or calendar_months.month < first_starts.started_month)
        and (
            not coalesce(referral_outcomes.is_declined, false)
            or calendar_months.month < referral_outcomes.responded_month
        )
),

units as (
    select month, agency, service, record_key, wait_days, true as is_started from waits
    union all
    select month, agency, service, record_key, null as wait_days, false as is_started from waiting
),

in_period as (
    select * from units
    where month between $period_from and $period_to
),

final as (
    select
        {{ dims }}
        count(*) filter (where is_started) as count_started,
        quantile_cont(wait_days, 0.5) as median_wait_days,
        quantile_cont(wait_days, 0.9) as p90_wait_days,
        count(*) filter (where not is_started) as count_waiting,
        sum(record_key) filter (where is_started) as key_started,
        sum(record_key) filter (where not is_started) as key_waiting
    from in_period
    group by all
)

select * from final
