variable "name_prefix" {
  description = "Environment prefix of every resource name (e.g. dwh-dev)."
  type        = string
}

variable "availability_zone_suffixes" {
  description = "The two availability zones (suffixes of the region name) the subnets use."
  type        = list(string)
  default     = ["a", "b"]

  validation {
    condition     = length(var.availability_zone_suffixes) == 2
    error_message = "MWAA and Redshift are laid out over exactly two availability zones."
  }
}

variable "cidr_block" {
  description = "CIDR block of the VPC (a /16 to /20 leaves room for the subnets)."
  type        = string
}

variable "enable_nat_gateway" {
  description = "Outbound internet through NAT; MWAA needs it to install requirements.txt from PyPI."
  type        = bool
  default     = true
}

variable "one_nat_gateway_per_az" {
  description = "One NAT gateway per availability zone instead of one in total."
  type        = bool
  default     = false
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints (service name after com.amazonaws.<region>.)."
  type        = list(string)
  default     = ["logs", "monitoring", "sqs", "kms", "secretsmanager", "sts", "glue", "sns", "states", "redshift-data"]
}

variable "kms_key_arn" {
  description = "KMS key encrypting the flow-log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the VPC flow logs."
  type        = number
  default     = 365
}
