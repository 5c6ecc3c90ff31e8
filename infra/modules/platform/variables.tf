variable "project" {
  description = "Project part of the environment prefix."
  type        = string
  default     = "dwh"
}

variable "environment" {
  description = "Environment part of the prefix (dev, prod)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment is 2-10 lowercase letters or digits."
  }
}

variable "repo_root" {
  description = "Absolute path of the repository (pipelines, generated state machines, plugins, requirements)."
  type        = string
}

# --- network ---

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "enable_nat_gateway" {
  description = "Outbound internet through NAT (MWAA installs requirements.txt from PyPI)."
  type        = bool
  default     = true
}

variable "one_nat_gateway_per_az" {
  description = "One NAT gateway per availability zone."
  type        = bool
  default     = false
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints."
  type        = list(string)
  default     = ["logs", "monitoring", "sqs", "kms", "secretsmanager", "sts", "glue", "sns", "states", "redshift-data"]
}

# --- storage ---

variable "force_destroy" {
  description = "Allow destroying non-empty buckets (development only)."
  type        = bool
  default     = false
}

variable "raw_retention_days" {
  description = "Days raw extracts are kept."
  type        = number
  default     = 730
}

variable "log_retention_days" {
  description = "Days logs are kept (buckets and CloudWatch)."
  type        = number
  default     = 365
}

variable "object_lock_mode" {
  description = "S3 Object Lock mode of the raw and logs buckets: GOVERNANCE or COMPLIANCE."
  type        = string
  default     = "GOVERNANCE"
}

variable "raw_object_lock_days" {
  description = "Days raw object versions are locked; shorter than raw_retention_days."
  type        = number
  default     = 365
}

variable "logs_object_lock_days" {
  description = "Days versions in the logs (audit) bucket are locked; shorter than log_retention_days."
  type        = number
  default     = 180
}

variable "enable_replication" {
  description = "Replicate the raw and processed buckets to the replica region."
  type        = bool
  default     = false
}

# --- Glue ---

variable "glue_max_concurrent_runs" {
  description = "Concurrent runs per Glue job."
  type        = number
  default     = 1
}

variable "manage_glue_catalog_encryption" {
  description = "Manage the account-wide Glue Data Catalog encryption settings."
  type        = bool
  default     = true
}

# --- Redshift ---

variable "redshift_serverless" {
  description = "Redshift Serverless instead of a provisioned cluster."
  type        = bool
  default     = false
}

variable "redshift_node_type" {
  description = "Node type of the provisioned cluster."
  type        = string
  default     = "ra3.xlplus"
}

variable "redshift_number_of_nodes" {
  description = "Nodes of the provisioned cluster."
  type        = number
  default     = 2
}

variable "redshift_serverless_base_capacity" {
  description = "Base RPUs of the serverless workgroup."
  type        = number
  default     = 8
}

variable "redshift_snapshot_retention_days" {
  description = "Days automated snapshots are kept."
  type        = number
  default     = 7
}

variable "redshift_manual_snapshot_retention_days" {
  description = "Days scheduled snapshots are kept."
  type        = number
  default     = 35
}

# --- MWAA ---

variable "mwaa_environment_class" {
  description = "MWAA environment class."
  type        = string
  default     = "mw1.small"
}

variable "mwaa_min_workers" {
  description = "Minimum MWAA workers."
  type        = number
  default     = 1
}

variable "mwaa_max_workers" {
  description = "Maximum MWAA workers."
  type        = number
  default     = 5
}

variable "mwaa_webserver_access_mode" {
  description = "PRIVATE_ONLY or PUBLIC_ONLY."
  type        = string
  default     = "PRIVATE_ONLY"
}

variable "slack_webhook_url" {
  description = "Slack incoming webhook of the slack_alerts connection; null leaves it to an operator."
  type        = string
  default     = null
  sensitive   = true
}

# --- orchestration and alerts ---

variable "stepfunctions_schedule_state" {
  description = "ENABLED or DISABLED: whether the Step Functions schedules start executions. DISABLED by default: Airflow (MWAA) runs the same pipelines, and one orchestrator is active per environment; enable this only where MWAA's schedule is off."
  type        = string
  default     = "DISABLED"
}

variable "arrival_gate_orchestrator" {
  description = "What the arrival gate starts when a date's raw files are all in: airflow (a DAG run on MWAA) or stepfunctions (the pipeline's state machine)."
  type        = string
  default     = "airflow"
}

variable "alert_emails" {
  description = "E-mail subscribers of the alert topic."
  type        = list(string)
  default     = []
}

variable "slack_team_id" {
  description = "Slack workspace ID for AWS Chatbot; null disables it."
  type        = string
  default     = null
}

variable "slack_channel_id" {
  description = "Slack channel ID for AWS Chatbot; null disables it."
  type        = string
  default     = null
}

# --- security and backup ---

variable "enable_cloudtrail" {
  description = "Create the CloudTrail trail."
  type        = bool
  default     = true
}

variable "enable_config" {
  description = "Enable AWS Config."
  type        = bool
  default     = false
}

variable "enable_guardduty" {
  description = "Enable GuardDuty."
  type        = bool
  default     = false
}

variable "enable_securityhub" {
  description = "Enable Security Hub."
  type        = bool
  default     = false
}

variable "enable_backup" {
  description = "Back up the lake buckets and the cluster with AWS Backup."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days backups are kept."
  type        = number
  default     = 35
}

variable "backup_vault_min_retention_days" {
  description = "Vault Lock: days before which no backup can be deleted."
  type        = number
  default     = 7
}

variable "backup_vault_max_retention_days" {
  description = "Vault Lock: longest retention a backup may have."
  type        = number
  default     = 365
}

variable "backup_vault_lock_changeable_for_days" {
  description = "Days after which the Vault Lock becomes immutable (compliance mode, at least 3); null keeps it in governance mode."
  type        = number
  default     = null
}

# --- QuickSight ---

variable "enable_quicksight" {
  description = "Create the QuickSight data source, mart datasets and the four dashboards (needs a QuickSight subscription)."
  type        = bool
  default     = false
}

variable "quicksight_owner_principal_arns" {
  description = "QuickSight users or groups owning the data source, datasets and dashboards."
  type        = list(string)
  default     = []
}

variable "quicksight_viewer_principal_arns" {
  description = "QuickSight users or groups who may open the four dashboards, read-only."
  type        = list(string)
  default     = []
}
