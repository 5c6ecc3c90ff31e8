variable "name_prefix" {
  description = "Environment prefix; the function is <name_prefix>-arrival-gate."
  type        = string
}

variable "gate_source_dir" {
  description = "Folder of the gate's handler and its generated manifest.json (lambdas/arrival_gate)."
  type        = string
}

variable "raw_bucket_name" {
  description = "The raw bucket, whose Object Created events the gate receives."
  type        = string
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the raw bucket (SSE-KMS), the function's environment, logs and dead-letter queue, and the state machines' execution input."
  type        = string
}

variable "orchestrator" {
  description = "What the gate starts: airflow (a DAG run on the MWAA environment) or stepfunctions (an execution of the pipeline's state machine)."
  type        = string

  validation {
    condition     = contains(["airflow", "stepfunctions"], var.orchestrator)
    error_message = "orchestrator is airflow or stepfunctions."
  }
}

variable "state_machine_arns" {
  description = "State machine ARN per pipeline (orchestration module output)."
  type        = map(string)
  default     = {}
}

variable "execution_input" {
  description = "The input the schedules pass to every state machine (orchestration module output execution_input); the gate adds ds."
  type        = any
  default     = {}
}

variable "mwaa_environment_name" {
  description = "MWAA environment the gate triggers DAG runs on."
  type        = string
  default     = null
}

variable "mwaa_airflow_role" {
  description = "Airflow role the gate's InvokeRestApi calls act as (User may trigger DAG runs)."
  type        = string
  default     = "User"
}

variable "log_retention_days" {
  description = "Retention of the function's logs."
  type        = number
  default     = 365
}
