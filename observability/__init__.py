"""Logs, traces and metrics of the API and the worker (README, "Observability").

Everything here is built by the process that runs (`oms api`, `oms worker`,
`oms dev`) from its Settings and passed in; importing it sets nothing up."""
