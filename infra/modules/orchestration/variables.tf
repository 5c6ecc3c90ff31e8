variable "name_prefix" {
  description = "Environment prefix; state machines are <name_prefix>-<pipeline>."
  type        = string
}

variable "state_machines" {
  description = "One entry per pipeline (output state_machines of the pipelines module)."
  type = map(object({
    definition_file        = string
    description            = string
    airflow_schedule       = string
    stepfunctions_schedule = string
    redshift_api_target    = string
    glue_jobs              = list(string)
    glue_crawlers          = list(string)
  }))
}

variable "glue_job_arns" {
  description = "Glue job ARN per glue_job node id."
  type        = map(string)
}

variable "glue_crawler_arns" {
  description = "Glue crawler ARN per crawler name."
  type        = map(string)
}

variable "redshift" {
  description = "The warehouse, as the redshift module outputs it."
  type = object({
    cluster_id            = string
    workgroup_name        = string
    data_api_resource_arn = string
    database_name         = string
    etl_secret_arn        = string
    copy_role_arn         = string
  })
}

variable "raw_uri" {
  description = "s3:// URI of the raw bucket."
  type        = string
}

variable "glue_database" {
  description = "Glue catalog database of the crawlers, the Redshift Spectrum schema's source."
  type        = string
}

variable "glue_processed_database" {
  description = "Glue catalog database of the processed and quarantine tables, the source of the Redshift Spectrum schema spectrum_processed."
  type        = string
}

variable "processed_uri" {
  description = "s3:// URI of the processed bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the topic, state machines, schedules and logs."
  type        = string
}

variable "schedule_state" {
  description = "ENABLED runs the state machines on their schedules; DISABLED keeps the schedules but runs nothing (Airflow alone orchestrates)."
  type        = string
  default     = "DISABLED"

  validation {
    condition     = contains(["ENABLED", "DISABLED"], var.schedule_state)
    error_message = "schedule_state is ENABLED or DISABLED."
  }
}

variable "alert_emails" {
  description = "E-mail addresses subscribed to the alert topic (each confirms by e-mail)."
  type        = list(string)
  default     = []
}

variable "slack_team_id" {
  description = "Slack workspace ID for AWS Chatbot (after authorising the workspace in the Chatbot console); null disables Chatbot."
  type        = string
  default     = null
}

variable "slack_channel_id" {
  description = "Slack channel ID receiving the alert topic through AWS Chatbot; null disables Chatbot."
  type        = string
  default     = null
}

variable "chatbot_region" {
  description = "Region of the AWS Chatbot API."
  type        = string
  default     = "us-west-2"
}

variable "log_retention_days" {
  description = "Retention of the execution logs."
  type        = number
  default     = 365
}

variable "warehouse_kms_key_arn" {
  description = "KMS key of the warehouse's admin secret when it is not kms_key_arn (null: the secret is encrypted with kms_key_arn)."
  type        = string
  default     = null
}
