# Airflow connections and variables served by the Secrets Manager backend. The DAGs read the
# variables at run time through templates ({{ var.value.dwh_* }}); nothing here is a password:
# Redshift is reached as the ETL user, never the admin (with IAM credentials for SQL, with the ETL
# user's secret for the Data API), and the Slack webhook is supplied out of band.

locals {
  variables = merge(
    {
      dwh_resource_prefix         = var.name_prefix
      dwh_raw_uri                 = var.raw_uri
      dwh_processed_uri           = var.processed_uri
      dwh_glue_database           = var.glue_database
      dwh_glue_processed_database = var.glue_processed_database
      dwh_redshift_copy_role_arn  = var.redshift.copy_role_arn
      dwh_redshift_database       = var.redshift.database_name
      dwh_redshift_secret_arn     = var.redshift.etl_secret_arn
      dwh_alert_topic_arn         = var.alert_topic_arn
    },
    var.redshift.cluster_id != "" ? { dwh_redshift_cluster_id = var.redshift.cluster_id } : {},
    var.redshift.workgroup_name != "" ? { dwh_redshift_workgroup = var.redshift.workgroup_name } : {},
  )

  # IAM authentication: the hook asks Redshift for temporary credentials with the execution role,
  # then hands every key of this extra to redshift_connector.connect(), so the keys are that
  # driver's parameter names: `region` (not boto's region_name), and `db_user`, which its IAM
  # mode requires. (Encoded per branch so the flags stay JSON booleans.)
  redshift_extra = jsondecode(var.redshift.workgroup_name != "" ? jsonencode({
    iam                   = true
    is_serverless         = true
    serverless_work_group = var.redshift.workgroup_name
    region                = local.region
    db_user               = var.redshift.etl_username
    }) : jsonencode({
    iam                = true
    cluster_identifier = var.redshift.cluster_id
    region             = local.region
    db_user            = var.redshift.etl_username
  }))

  connections = {
    aws_default = {
      conn_type = "aws"
      extra     = { region_name = local.region }
    }
    redshift_default = {
      conn_type = "redshift"
      host      = var.redshift.endpoint_address
      port      = var.redshift.port
      schema    = var.redshift.database_name
      login     = var.redshift.etl_username
      extra     = local.redshift_extra
    }
  }
}

resource "aws_secretsmanager_secret" "variable" {
  #checkov:skip=CKV2_AWS_57:configuration values (names and ARNs), not credentials; nothing to rotate
  for_each                = local.variables
  name                    = "${var.variables_prefix}/${each.key}"
  description             = "Airflow Variable ${each.key} of ${local.name}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "variable" {
  for_each      = local.variables
  secret_id     = aws_secretsmanager_secret.variable[each.key].id
  secret_string = each.value
}

resource "aws_secretsmanager_secret" "connection" {
  #checkov:skip=CKV2_AWS_57:no password inside: Redshift uses IAM auth and aws_default the execution role
  for_each                = local.connections
  name                    = "${var.connections_prefix}/${each.key}"
  description             = "Airflow connection ${each.key} of ${local.name}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "connection" {
  for_each      = local.connections
  secret_id     = aws_secretsmanager_secret.connection[each.key].id
  secret_string = jsonencode(each.value)
}

# The Slack incoming webhook is issued by Slack; put its URL with
#   aws secretsmanager put-secret-value --secret-id <connections_prefix>/slack_alerts \
#     --secret-string '{"conn_type": "slackwebhook", "password": "<webhook url>"}'
# or set var.slack_webhook_url (kept out of version control, e.g. TF_VAR_slack_webhook_url).
resource "aws_secretsmanager_secret" "slack" {
  #checkov:skip=CKV2_AWS_57:Slack webhooks cannot be rotated from AWS; they are reissued in Slack
  name                    = "${var.connections_prefix}/slack_alerts"
  description             = "Airflow connection slack_alerts (Slack incoming webhook) of ${local.name}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "slack" {
  count         = var.slack_webhook_url == null ? 0 : 1
  secret_id     = aws_secretsmanager_secret.slack.id
  secret_string = jsonencode({ conn_type = "slackwebhook", password = var.slack_webhook_url })
}
