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

variable "dashboard_template_file" {
  description = "The generated dashboard body (infra/monitoring/platform.dashboard.json, written by `dwh compile`), filled with templatefile()."
  type        = string
}

variable "raw_bucket_name" {
  description = "Raw landing bucket: its request metrics count the objects landed."
  type        = string
}

variable "redshift_cluster_id" {
  description = "Provisioned Redshift cluster identifier; empty with Redshift Serverless."
  type        = string
  default     = ""
}

variable "redshift_workgroup_name" {
  description = "Redshift Serverless workgroup; empty with a provisioned cluster."
  type        = string
  default     = ""
}

variable "backup_vault_name" {
  description = "AWS Backup vault; null when backups are disabled."
  type        = string
  default     = null
}
