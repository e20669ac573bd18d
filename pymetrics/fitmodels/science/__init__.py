"""Pure computation of the job-fit layer: no Django."""
