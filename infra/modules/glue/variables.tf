variable "name_prefix" {
  description = "Environment prefix; AWS names are <name_prefix>-<node id> (jobs) and <name_prefix>-<crawler> (crawlers)."
  type        = string
}

variable "jobs" {
  description = "Glue jobs keyed by glue_job node id (output glue_jobs of the pipelines module)."
  type = map(object({
    script            = string
    arguments         = map(string)
    worker_type       = string
    number_of_workers = number
    timeout_minutes   = number
    pipelines         = list(string)
  }))
}

variable "crawlers" {
  description = "Glue crawlers keyed by crawler name (output glue_crawlers of the pipelines module)."
  type = map(object({
    entities  = list(string)
    pipelines = list(string)
  }))
}

variable "glue_version" {
  description = "AWS Glue version of the jobs (Spark 3.5, Python 3.11)."
  type        = string
  default     = "5.0"
}

variable "max_concurrent_runs" {
  description = "Concurrent runs per job: 1 keeps job bookmarks consistent; raise it for backfills."
  type        = number
  default     = 1
}

variable "extra_py_files" {
  description = "Modules under the scripts prefix every job imports (--extra-py-files)."
  type        = list(string)
  default     = ["olist_transforms.py", "olist_formats.py", "olist_contract.py"]
}

variable "scripts_prefix" {
  description = "Key prefix of the Glue scripts in the scripts bucket (the deploy command uploads include/glue/*.py there)."
  type        = string
  default     = "glue"
}

variable "raw_bucket_name" {
  description = "Name of the raw bucket."
  type        = string
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  type        = string
}

variable "processed_bucket_name" {
  description = "Name of the processed bucket."
  type        = string
}

variable "processed_bucket_arn" {
  description = "ARN of the processed bucket."
  type        = string
}

variable "scripts_bucket_name" {
  description = "Name of the scripts bucket."
  type        = string
}

variable "scripts_bucket_arn" {
  description = "ARN of the scripts bucket."
  type        = string
}

variable "logs_bucket_name" {
  description = "Name of the logs bucket (Spark UI event logs)."
  type        = string
}

variable "logs_bucket_arn" {
  description = "ARN of the logs bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the security configuration and the catalog."
  type        = string
}

variable "manage_catalog_encryption" {
  description = "Manage the account-wide Data Catalog encryption settings (one per account and region)."
  type        = bool
  default     = true
}
