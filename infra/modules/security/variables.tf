variable "name_prefix" {
  description = "Environment prefix of every resource name."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the trail, its logs, Config snapshots and the backup vault."
  type        = string
}

variable "logs_bucket_name" {
  description = "Bucket receiving CloudTrail (cloudtrail/) and Config (config/) deliveries."
  type        = string
}

variable "logs_bucket_arn" {
  description = "ARN of that bucket."
  type        = string
}

variable "audited_bucket_arns" {
  description = "Buckets whose object-level reads and writes CloudTrail records."
  type        = list(string)
  default     = []
}

variable "enable_cloudtrail" {
  description = "Create a multi-region CloudTrail trail."
  type        = bool
  default     = true
}

variable "enable_config" {
  description = "Record resource configuration with AWS Config (one recorder per account and region)."
  type        = bool
  default     = false
}

variable "enable_guardduty" {
  description = "Enable GuardDuty with S3 protection (one detector per account and region)."
  type        = bool
  default     = false
}

variable "enable_securityhub" {
  description = "Enable Security Hub with its default standards (one per account and region)."
  type        = bool
  default     = false
}

variable "enable_backup" {
  description = "Back up var.backup_resource_arns with AWS Backup."
  type        = bool
  default     = false
}

variable "backup_resource_arns" {
  description = "Resources AWS Backup protects (lake buckets, the Redshift cluster)."
  type        = list(string)
  default     = []
}

variable "backup_schedule" {
  description = "When backups run (cron, UTC), after the nightly load."
  type        = string
  default     = "cron(0 6 * * ? *)"
}

variable "backup_retention_days" {
  description = "Days a backup is kept."
  type        = number
  default     = 35
}

variable "log_retention_days" {
  description = "Retention of the trail's CloudWatch log group."
  type        = number
  default     = 365
}
