-- Each city's view (what `wwc status` and the API show) and the state it is folded from,
-- kept by the "city_views" projection with the domain's own fold: city routes answer
-- from here instead of querying the workflow on every request.
CREATE TABLE wwc_city_views (
    city_key  text PRIMARY KEY,
    version   integer NOT NULL,
    state     jsonb NOT NULL,
    view      jsonb NOT NULL
);
