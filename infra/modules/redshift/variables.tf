variable "name_prefix" {
  description = "Environment prefix; the cluster (or namespace and workgroup) is <name_prefix>-redshift."
  type        = string
}

variable "serverless" {
  description = "Redshift Serverless instead of a provisioned cluster. Pipelines must then set redshift_api_target: workgroup."
  type        = bool
  default     = false
}

variable "node_type" {
  description = "Node type of the provisioned cluster."
  type        = string
  default     = "ra3.xlplus"
}

variable "number_of_nodes" {
  description = "Nodes of the provisioned cluster (1 = single-node)."
  type        = number
  default     = 2
}

variable "serverless_base_capacity" {
  description = "Base RPUs of the serverless workgroup."
  type        = number
  default     = 8
}

variable "serverless_max_capacity" {
  description = "Maximum RPUs of the serverless workgroup (cost ceiling)."
  type        = number
  default     = 64
}

variable "database_name" {
  description = "Warehouse database name."
  type        = string
  default     = "dwh"
}

variable "admin_username" {
  description = "Admin user; its generated password lives in Secrets Manager. Only Terraform uses it (users_and_grants.sql)."
  type        = string
  default     = "dwh_admin"
}

variable "port" {
  description = "SQL port."
  type        = number
  default     = 5439
}

variable "vpc_id" {
  description = "VPC of the warehouse."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC (egress to the interface endpoints)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two availability zones)."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to open SQL connections, keyed by a name known at plan time (mwaa, quicksight)."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "KMS key encrypting the warehouse, its snapshots and its admin secret."
  type        = string
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket (Spectrum)."
  type        = string
}

variable "processed_bucket_arn" {
  description = "ARN of the processed bucket (COPY)."
  type        = string
}

variable "glue_database_name" {
  description = "Glue catalog database Spectrum reads."
  type        = string
}

variable "glue_database_arn" {
  description = "ARN of that database."
  type        = string
}

variable "glue_processed_database_name" {
  description = "Glue catalog database of the processed and quarantine tables Spectrum reads (schema spectrum_processed)."
  type        = string
}

variable "glue_processed_database_arn" {
  description = "ARN of that database."
  type        = string
}

variable "snapshot_retention_days" {
  description = "Days automated snapshots are kept."
  type        = number
  default     = 7
}

variable "manual_snapshot_retention_days" {
  description = "Days scheduled and manual snapshots are kept."
  type        = number
  default     = 35
}

variable "snapshot_schedule" {
  description = "Extra snapshot schedule of the provisioned cluster (Redshift schedule expression)."
  type        = string
  default     = "rate(12 hours)"
}

variable "maintenance_window" {
  description = "Weekly maintenance window (UTC), clear of the nightly load."
  type        = string
  default     = "sun:06:00-sun:06:30"
}

variable "etl_username" {
  description = "Database user of Airflow and Step Functions: owns staging, dw, ops and mart."
  type        = string
  default     = "dwh_etl"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,126}$", var.etl_username))
    error_message = "etl_username is a lower-case Redshift identifier."
  }
}

variable "bi_username" {
  description = "Database user of QuickSight: reads schema mart only."
  type        = string
  default     = "dwh_bi"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,126}$", var.bi_username))
    error_message = "bi_username is a lower-case Redshift identifier."
  }
}

variable "password_versions" {
  description = "Password generation per user (etl, bi); bump one to rotate that user's password (Terraform sets it in Redshift and in its secret)."
  type        = map(number)
  default     = { etl = 1, bi = 1 }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted user secret can be restored."
  type        = number
  default     = 7
}
