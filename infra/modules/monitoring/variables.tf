variable "name_prefix" {
  description = "Environment prefix of every alarm name."
  type        = string
}

variable "alert_topic_arn" {
  description = "SNS topic the alarms and failure events notify."
  type        = string
}

variable "glue_job_names" {
  description = "AWS Glue job names to watch."
  type        = list(string)
}

variable "glue_crawler_names" {
  description = "AWS Glue crawler names to watch."
  type        = list(string)
  default     = []
}

variable "state_machine_arns" {
  description = "State machine ARN per pipeline."
  type        = map(string)
}

variable "mwaa_environment_name" {
  description = "MWAA environment to watch; null skips the MWAA alarms."
  type        = string
  default     = null
}
