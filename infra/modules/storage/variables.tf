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
