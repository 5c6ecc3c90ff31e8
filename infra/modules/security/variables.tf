variable "name_prefix" {
  description = "Environment prefix of every resource name."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the trail, its logs and Config snapshots."
  type        = string
}

variable "backup_kms_key_arn" {
  description = "KMS key of the backup vault (a key of its own, not the data's)."
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

variable "backup_vault_min_retention_days" {
  description = "Vault Lock: days before which no recovery point can be deleted; at most backup_retention_days."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_vault_min_retention_days >= 1
    error_message = "backup_vault_min_retention_days is at least 1."
  }
}

variable "backup_vault_max_retention_days" {
  description = "Vault Lock: longest retention a backup in the vault may have; at least backup_retention_days."
  type        = number
  default     = 365
}

variable "backup_vault_lock_changeable_for_days" {
  description = "Days after which the Vault Lock becomes immutable (compliance mode; AWS requires at least 3). null keeps it in governance mode, removable by a permitted IAM user."
  type        = number
  default     = null

  validation {
    condition     = var.backup_vault_lock_changeable_for_days == null ? true : var.backup_vault_lock_changeable_for_days >= 3
    error_message = "backup_vault_lock_changeable_for_days is null or at least 3 (AWS Backup's cooling-off period)."
  }
}

variable "log_retention_days" {
  description = "Retention of the trail's CloudWatch log group."
  type        = number
  default     = 365
}
