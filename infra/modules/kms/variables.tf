variable "name_prefix" {
  description = "Environment prefix of every resource name (e.g. dwh-dev)."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect."
  type        = number
  default     = 30
}
