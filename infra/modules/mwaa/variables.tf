variable "name_prefix" {
  description = "Environment prefix; the environment is <name_prefix>-airflow."
  type        = string
}

variable "airflow_version" {
  description = "Apache Airflow version of the environment (plugins/dwh/versions.py AIRFLOW); see infra/README.md \"Airflow versions\"."
  type        = string
  default     = "3.3.1"

  validation {
    condition     = contains(["3.3.1"], var.airflow_version)
    error_message = "The DAGs, plugins and requirements.txt are built and tested for Airflow 3.3.1 with amazon provider 9.34.0 only (infra/README.md \"Airflow versions\")."
  }
}

variable "environment_class" {
  description = "MWAA environment class (mw1.micro, mw1.small, mw1.medium, ...)."
  type        = string
  default     = "mw1.small"
}

variable "min_workers" {
  description = "Minimum Celery workers."
  type        = number
  default     = 1
}

variable "max_workers" {
  description = "Maximum Celery workers."
  type        = number
  default     = 5
}

variable "schedulers" {
  description = "Schedulers (2 or more for availability)."
  type        = number
  default     = 2
}

variable "webserver_access_mode" {
  description = "PRIVATE_ONLY (UI reachable from the VPC only) or PUBLIC_ONLY (UI on the internet, IAM sign-in)."
  type        = string
  default     = "PRIVATE_ONLY"

  validation {
    condition     = contains(["PRIVATE_ONLY", "PUBLIC_ONLY"], var.webserver_access_mode)
    error_message = "webserver_access_mode is PRIVATE_ONLY or PUBLIC_ONLY."
  }
}

variable "weekly_maintenance_window_start" {
  description = "Start of MWAA's weekly maintenance window (UTC, DAY:HH:MM), clear of the nightly load."
  type        = string
  default     = "SUN:07:00"
}

variable "log_level" {
  description = "Level of the environment's CloudWatch logs."
  type        = string
  default     = "INFO"
}

variable "vpc_id" {
  description = "VPC of the environment."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Two private subnets in two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) == 2
    error_message = "MWAA needs exactly two private subnets."
  }
}

variable "kms_key_arn" {
  description = "KMS key of the environment, its bucket and its secrets."
  type        = string
}

variable "access_logs_bucket_name" {
  description = "Bucket receiving the S3 server access logs of the source bucket."
  type        = string
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the non-empty source bucket."
  type        = bool
  default     = false
}

variable "plugins_dir" {
  description = "The repository's plugins/ folder (bootstrap plugins.zip)."
  type        = string
}

variable "requirements_file" {
  description = "The repository's requirements.txt."
  type        = string
}

variable "startup_script_file" {
  description = "The startup script (infra/mwaa/startup.sh)."
  type        = string
}

variable "connections_prefix" {
  description = "Secrets Manager prefix of Airflow connections."
  type        = string
  default     = "airflow/connections"
}

variable "variables_prefix" {
  description = "Secrets Manager prefix of Airflow variables."
  type        = string
  default     = "airflow/variables"
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored."
  type        = number
  default     = 7
}

variable "slack_webhook_url" {
  description = "Slack incoming webhook URL for the slack_alerts connection; null leaves the secret for an operator to fill."
  type        = string
  default     = null
  sensitive   = true
}

variable "raw_uri" {
  description = "s3:// URI of the raw bucket (Variable dwh_raw_uri)."
  type        = string
}

variable "glue_database" {
  description = "Glue catalog database of the crawlers, the Redshift Spectrum schema's source (Variable dwh_glue_database)."
  type        = string
}

variable "glue_processed_database" {
  description = "Glue catalog database of the processed and quarantine tables, the Redshift Spectrum schema spectrum_processed's source (Variable dwh_glue_processed_database)."
  type        = string
}

variable "processed_uri" {
  description = "s3:// URI of the processed bucket (Variable dwh_processed_uri)."
  type        = string
}

variable "alert_topic_arn" {
  description = "SNS topic of the alerts (Variable dwh_alert_topic_arn)."
  type        = string
}

variable "redshift" {
  description = "The warehouse, as the redshift module outputs it."
  type = object({
    cluster_id            = string
    workgroup_name        = string
    data_api_resource_arn = string
    database_name         = string
    etl_username          = string
    etl_secret_arn        = string
    endpoint_address      = string
    port                  = number
    copy_role_arn         = string
  })
}

variable "glue_job_arns" {
  description = "Glue jobs the DAGs start."
  type        = list(string)
  default     = []
}

variable "glue_crawler_arns" {
  description = "Glue crawlers the DAGs start."
  type        = list(string)
  default     = []
}

variable "warehouse_kms_key_arn" {
  description = "KMS key of the warehouse's admin secret when it is not kms_key_arn (null: the secret is encrypted with kms_key_arn)."
  type        = string
  default     = null
}
