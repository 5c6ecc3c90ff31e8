output "pipelines" {
  description = "Pipeline names read from the pipeline files."
  value       = keys(local.pipelines)

  precondition {
    condition     = length(local.pipelines) > 0
    error_message = "No pipeline file (*.yaml) found in ${var.pipelines_dir}."
  }
  precondition {
    condition     = alltrue([for name, p in local.pipelines : try(p.pipeline, "") == name])
    error_message = "Every pipeline file must declare `pipeline:` equal to its file stem: ${join(", ", [for name, p in local.pipelines : name if try(p.pipeline, "") != name])}."
  }
}

output "glue_jobs" {
  description = "One entry per glue_job node id: script, arguments, worker settings, timeout and the pipelines using it."
  value       = local.glue_jobs

  precondition {
    condition     = alltrue([for id, defs in local.glue_job_definitions : length(distinct(defs)) == 1])
    error_message = "A glue_job node id names one AWS Glue job, so every pipeline using that id must define it identically: ${join(", ", [for id, defs in local.glue_job_definitions : id if length(distinct(defs)) > 1])}."
  }
}

output "glue_crawlers" {
  description = "One entry per crawler name: the raw entities it crawls and the pipelines using it."
  value       = local.glue_crawlers
}

output "state_machines" {
  description = "One entry per pipeline: its generated state machine file, schedules and the Glue resources it starts."
  value       = local.state_machines

  precondition {
    condition     = alltrue([for name, sm in local.state_machines : fileexists(sm.definition_file)])
    error_message = "Missing generated state machine(s) for: ${join(", ", [for name, sm in local.state_machines : name if !fileexists(sm.definition_file)])}; run `dwh compile`."
  }
}
