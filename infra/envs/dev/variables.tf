variable "region" {
  description = "AWS region of the environment (CI passes TF_VAR_region from the repository variable AWS_REGION)."
  type        = string
}

variable "replica_region" {
  description = "Region of the cross-region replicas (TF_VAR_replica_region)."
  type        = string
  default     = "us-west-2"
}

variable "project" {
  description = "Project part of the environment prefix."
  type        = string
  default     = "dwh"
}

variable "stepfunctions_schedule_state" {
  description = "ENABLED or DISABLED: whether EventBridge Scheduler starts the state machines. DISABLED by default: MWAA runs the same pipelines, and one orchestrator is active per environment."
  type        = string
  default     = "DISABLED"
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

variable "slack_webhook_url" {
  description = "Slack incoming webhook for Airflow's slack_alerts connection (TF_VAR_slack_webhook_url from a CI secret); null leaves it to an operator."
  type        = string
  default     = null
  sensitive   = true
}

variable "enable_quicksight" {
  description = "Create the QuickSight data source, datasets and the four dashboards (the account needs a QuickSight subscription)."
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
