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
  description = "Admin user; its generated password lives in Secrets Manager."
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
