# The warehouse: a provisioned RA3 cluster by default, or Redshift Serverless when
# var.serverless is set. Encrypted with the data key, in the private subnets, reachable only from
# the security groups in var.allowed_security_group_ids. The admin password never leaves AWS:
# Redshift generates it and keeps it in Secrets Manager (manage_master_password); only Terraform
# uses it, to create the workloads' own users (users.tf). A role attached to the warehouse serves
# COPY from the processed bucket and Spectrum over the raw catalog.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  identifier  = "${var.name_prefix}-redshift"
  provisioned = !var.serverless
}

resource "aws_security_group" "redshift" {
  name        = "${var.name_prefix}-redshift"
  description = "Redshift: SQL from the orchestrators and QuickSight only"
  vpc_id      = var.vpc_id

  egress {
    description = "AWS APIs through the VPC endpoints and S3 gateway (enhanced VPC routing)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr_block]
  }

  egress {
    description     = "S3 through the gateway endpoint (COPY, Spectrum)"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [data.aws_prefix_list.s3.id]
  }
}

data "aws_prefix_list" "s3" {
  name = "com.amazonaws.${local.region}.s3"
}

resource "aws_vpc_security_group_ingress_rule" "sql" {
  for_each                     = var.allowed_security_group_ids
  security_group_id            = aws_security_group.redshift.id
  description                  = "SQL from ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = each.value
}

# --- provisioned cluster ---

resource "aws_redshift_subnet_group" "this" {
  count      = local.provisioned ? 1 : 0
  name       = local.identifier
  subnet_ids = var.subnet_ids
}

resource "aws_redshift_parameter_group" "this" {
  count  = local.provisioned ? 1 : 0
  name   = local.identifier
  family = "redshift-1.0"

  parameter {
    name  = "require_ssl"
    value = "true"
  }
  parameter {
    name  = "enable_user_activity_logging"
    value = "true"
  }
}

resource "aws_redshift_cluster" "this" {
  #checkov:skip=CKV_AWS_71:audit logging is configured by aws_redshift_logging.this (provider 6 moved it out of the cluster)
  count                                = local.provisioned ? 1 : 0
  cluster_identifier                   = local.identifier
  node_type                            = var.node_type
  number_of_nodes                      = var.number_of_nodes
  cluster_type                         = var.number_of_nodes > 1 ? "multi-node" : "single-node"
  database_name                        = var.database_name
  master_username                      = var.admin_username
  manage_master_password               = true
  master_password_secret_kms_key_id    = var.kms_key_arn
  encrypted                            = true
  kms_key_id                           = var.kms_key_arn
  publicly_accessible                  = false
  enhanced_vpc_routing                 = true
  port                                 = var.port
  cluster_subnet_group_name            = aws_redshift_subnet_group.this[0].name
  cluster_parameter_group_name         = aws_redshift_parameter_group.this[0].name
  vpc_security_group_ids               = [aws_security_group.redshift.id]
  iam_roles                            = [aws_iam_role.copy.arn]
  default_iam_role_arn                 = aws_iam_role.copy.arn
  automated_snapshot_retention_period  = var.snapshot_retention_days
  manual_snapshot_retention_period     = var.manual_snapshot_retention_days
  skip_final_snapshot                  = false
  final_snapshot_identifier            = "${local.identifier}-final"
  allow_version_upgrade                = true
  preferred_maintenance_window         = var.maintenance_window
  availability_zone_relocation_enabled = true
}

resource "aws_redshift_logging" "this" {
  count                = local.provisioned ? 1 : 0
  cluster_identifier   = aws_redshift_cluster.this[0].cluster_identifier
  log_destination_type = "cloudwatch"
  log_exports          = ["connectionlog", "userlog", "useractivitylog"]
}

# Extra snapshots beyond the automated ones, on a fixed schedule.
resource "aws_redshift_snapshot_schedule" "this" {
  count         = local.provisioned ? 1 : 0
  identifier    = local.identifier
  definitions   = [var.snapshot_schedule]
  force_destroy = true
}

resource "aws_redshift_snapshot_schedule_association" "this" {
  count               = local.provisioned ? 1 : 0
  cluster_identifier  = aws_redshift_cluster.this[0].cluster_identifier
  schedule_identifier = aws_redshift_snapshot_schedule.this[0].identifier
}

# --- serverless ---

resource "aws_redshiftserverless_namespace" "this" {
  count                            = var.serverless ? 1 : 0
  namespace_name                   = local.identifier
  db_name                          = var.database_name
  admin_username                   = var.admin_username
  manage_admin_password            = true
  admin_password_secret_kms_key_id = var.kms_key_arn
  kms_key_id                       = var.kms_key_arn
  iam_roles                        = [aws_iam_role.copy.arn]
  default_iam_role_arn             = aws_iam_role.copy.arn
  log_exports                      = ["connectionlog", "userlog", "useractivitylog"]
}

resource "aws_redshiftserverless_workgroup" "this" {
  count                = var.serverless ? 1 : 0
  namespace_name       = aws_redshiftserverless_namespace.this[0].namespace_name
  workgroup_name       = local.identifier
  base_capacity        = var.serverless_base_capacity
  max_capacity         = var.serverless_max_capacity
  subnet_ids           = var.subnet_ids
  security_group_ids   = [aws_security_group.redshift.id]
  publicly_accessible  = false
  enhanced_vpc_routing = true
  port                 = var.port

  config_parameter {
    parameter_key   = "require_ssl"
    parameter_value = "true"
  }
  config_parameter {
    parameter_key   = "enable_user_activity_logging"
    parameter_value = "true"
  }
}

# Serverless keeps automatic recovery points; this adds a named snapshot kept for the retention.
resource "aws_redshiftserverless_snapshot" "baseline" {
  count            = var.serverless ? 1 : 0
  namespace_name   = aws_redshiftserverless_namespace.this[0].namespace_name
  snapshot_name    = "${local.identifier}-baseline"
  retention_period = var.manual_snapshot_retention_days
}
