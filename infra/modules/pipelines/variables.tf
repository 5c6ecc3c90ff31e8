variable "pipelines_dir" {
  description = "Folder holding the pipeline files (include/pipelines)."
  type        = string
}

variable "stepfunctions_dir" {
  description = "Folder holding the generated state machines (infra/stepfunctions), one <pipeline>.asl.json per pipeline."
  type        = string
}
