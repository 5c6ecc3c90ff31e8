variable "name_prefix" {
  description = "Environment prefix of every resource name (e.g. dwh-dev)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the data buckets."
  type        = string
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete non-empty buckets (never in production)."
  type        = bool
  default     = false
}

variable "raw_retention_days" {
  description = "Days raw CSV extracts are kept before they expire."
  type        = number
  default     = 730
}

variable "log_retention_days" {
  description = "Days logs are kept in the logs and access-logs buckets."
  type        = number
  default     = 365
}

variable "object_lock_mode" {
  description = "Object Lock retention mode of the raw and logs buckets: GOVERNANCE (removable with s3:BypassGovernanceRetention) or COMPLIANCE (by no one)."
  type        = string
  default     = "GOVERNANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock_mode)
    error_message = "object_lock_mode is GOVERNANCE or COMPLIANCE."
  }
}

variable "raw_object_lock_days" {
  description = "Days every raw object version is locked against deletion and overwrite; shorter than raw_retention_days."
  type        = number
  default     = 365

  validation {
    condition     = var.raw_object_lock_days >= 1
    error_message = "raw_object_lock_days is at least 1."
  }
}

variable "logs_object_lock_days" {
  description = "Days every version in the logs bucket (CloudTrail, Config, Spark UI) is locked; shorter than log_retention_days."
  type        = number
  default     = 180

  validation {
    condition     = var.logs_object_lock_days >= 1
    error_message = "logs_object_lock_days is at least 1."
  }
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  default     = 30
}

variable "enable_replication" {
  description = "Replicate var.replicated_buckets to the region of the aws.replica provider."
  type        = bool
  default     = false
}

variable "replicated_buckets" {
  description = "Buckets replicated when enable_replication is set."
  type        = list(string)
  default     = ["raw", "processed"]

  validation {
    condition     = alltrue([for b in var.replicated_buckets : contains(["raw", "processed", "scripts", "logs"], b)])
    error_message = "replicated_buckets may only name raw, processed, scripts or logs."
  }
}

variable "log_source_bucket_arns" {
  description = "Buckets of other modules (the MWAA bucket) that deliver server access logs to the access-log bucket."
  type        = list(string)
  default     = []
}
