# The users the workloads log in as, instead of the admin: an ETL user owning the schemas it
# loads (staging, dw, ops, mart) for Airflow and Step Functions, and a BI user that only reads
# mart for QuickSight. Each has its own Secrets Manager secret (username, password, engine, host,
# port, dbname), encrypted with the data key. Terraform creates the users and their grants once,
# as the admin through the Data API, from sql/users_and_grants.sql; the passwords are generated
# here and only ever reach Redshift in md5 form. Rotate one by bumping var.password_versions.

locals {
  users = { etl = var.etl_username, bi = var.bi_username }

  admin_secret_arn = local.provisioned ? aws_redshift_cluster.this[0].master_password_secret_arn : aws_redshiftserverless_namespace.this[0].admin_password_secret_arn
  endpoint_address = local.provisioned ? aws_redshift_cluster.this[0].dns_name : aws_redshiftserverless_workgroup.this[0].endpoint[0].address

  admin_sql = templatefile("${path.module}/sql/users_and_grants.sql", {
    etl_user = var.etl_username
    bi_user  = var.bi_username
    database = var.database_name
  })
  # "-- step: <name>" starts a step; its statements end with ";"; comment lines are dropped.
  admin_steps = {
    for chunk in slice(split("\n-- step: ", local.admin_sql), 1, length(split("\n-- step: ", local.admin_sql))) :
    trimspace(split("\n", chunk)[0]) => [
      for statement in split(";", replace(join("\n", slice(split("\n", chunk), 1, length(split("\n", chunk)))), "/(?m)^\\s*--.*$/", "")) :
      trimspace(statement) if trimspace(statement) != ""
    ]
  }

  # Redshift's md5 password form: 'md5' followed by md5(password || user name).
  password_md5 = { for k, user in local.users : k => "md5${md5("${random_password.user[k].result}${user}")}" }
}

resource "random_password" "user" {
  for_each    = local.users
  length      = 40
  special     = false # no quoting in the connection strings that read the secret
  min_upper   = 2
  min_lower   = 2
  min_numeric = 2
  keepers = {
    version = lookup(var.password_versions, each.key, 1)
  }

  lifecycle {
    precondition {
      condition     = length(distinct([var.admin_username, var.etl_username, var.bi_username])) == 3
      error_message = "admin_username, etl_username and bi_username must be three different users."
    }
  }
}

resource "aws_secretsmanager_secret" "user" {
  #checkov:skip=CKV2_AWS_57:rotated by Terraform (var.password_versions), which also sets the password in Redshift; see infra/README.md
  for_each                = local.users
  name                    = "${var.name_prefix}/redshift/${each.key}"
  description             = "Redshift ${each.key} user ${each.value} of ${var.name_prefix}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "user" {
  for_each  = local.users
  secret_id = aws_secretsmanager_secret.user[each.key].id
  secret_string = jsonencode({
    username = each.value
    password = random_password.user[each.key].result
    engine   = "redshift"
    host     = local.endpoint_address
    port     = var.port
    dbname   = var.database_name
  })
}

# One Data API statement per SQL statement, as the admin; the steps run in order.
locals {
  admin_target = {
    cluster_identifier = local.provisioned ? aws_redshift_cluster.this[0].cluster_identifier : null
    workgroup_name     = var.serverless ? aws_redshiftserverless_workgroup.this[0].workgroup_name : null
  }
}

resource "aws_redshiftdata_statement" "users" {
  for_each           = { for i, sql in local.admin_steps["users"] : tostring(i) => sql }
  cluster_identifier = local.admin_target.cluster_identifier
  workgroup_name     = local.admin_target.workgroup_name
  database           = var.database_name
  secret_arn         = local.admin_secret_arn
  sql                = each.value
}

resource "aws_redshiftdata_statement" "password" {
  for_each           = local.users
  cluster_identifier = local.admin_target.cluster_identifier
  workgroup_name     = local.admin_target.workgroup_name
  database           = var.database_name
  secret_arn         = local.admin_secret_arn
  sql                = "alter user ${each.value} password '${local.password_md5[each.key]}'"
  depends_on         = [aws_redshiftdata_statement.users]
}

resource "aws_redshiftdata_statement" "schemas" {
  for_each           = { for i, sql in local.admin_steps["schemas"] : tostring(i) => sql }
  cluster_identifier = local.admin_target.cluster_identifier
  workgroup_name     = local.admin_target.workgroup_name
  database           = var.database_name
  secret_arn         = local.admin_secret_arn
  sql                = each.value
  depends_on         = [aws_redshiftdata_statement.password]
}

resource "aws_redshiftdata_statement" "owners" {
  for_each           = { for i, sql in local.admin_steps["owners"] : tostring(i) => sql }
  cluster_identifier = local.admin_target.cluster_identifier
  workgroup_name     = local.admin_target.workgroup_name
  database           = var.database_name
  secret_arn         = local.admin_secret_arn
  sql                = each.value
  depends_on         = [aws_redshiftdata_statement.schemas]
}

resource "aws_redshiftdata_statement" "database" {
  for_each           = { for i, sql in local.admin_steps["database"] : tostring(i) => sql }
  cluster_identifier = local.admin_target.cluster_identifier
  workgroup_name     = local.admin_target.workgroup_name
  database           = var.database_name
  secret_arn         = local.admin_secret_arn
  sql                = each.value
  depends_on         = [aws_redshiftdata_statement.owners]
}

resource "aws_redshiftdata_statement" "grants" {
  for_each           = { for i, sql in local.admin_steps["grants"] : tostring(i) => sql }
  cluster_identifier = local.admin_target.cluster_identifier
  workgroup_name     = local.admin_target.workgroup_name
  database           = var.database_name
  secret_arn         = local.admin_secret_arn
  sql                = each.value
  depends_on         = [aws_redshiftdata_statement.database]
}

resource "aws_redshiftdata_statement" "lockdown" {
  for_each           = { for i, sql in local.admin_steps["lockdown"] : tostring(i) => sql }
  cluster_identifier = local.admin_target.cluster_identifier
  workgroup_name     = local.admin_target.workgroup_name
  database           = var.database_name
  secret_arn         = local.admin_secret_arn
  sql                = each.value
  depends_on         = [aws_redshiftdata_statement.grants]
}
