# QuickSight on the warehouse: a VPC connection into the private subnets, a Redshift data source
# that logs in as the read-only BI user with its secret (select on schema mart only), and one dataset
# per mart view of the four dashboards (executive, customer, product, operational). Needs a
# QuickSight subscription in the account, with Secrets Manager access granted to QuickSight.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  data_source_actions = [
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:DeleteDataSource",
    "quicksight:UpdateDataSourcePermissions",
  ]
  data_set_actions = [
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions",
  ]
}

resource "aws_security_group" "quicksight" {
  name        = "${var.name_prefix}-quicksight"
  description = "QuickSight network interfaces reaching Redshift"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "redshift" {
  security_group_id            = aws_security_group.quicksight.id
  description                  = "SQL to Redshift"
  ip_protocol                  = "tcp"
  from_port                    = var.redshift_port
  to_port                      = var.redshift_port
  referenced_security_group_id = var.redshift_security_group_id
}

# QuickSight's network interfaces do not track connections, so replies from Redshift need an
# explicit inbound rule (AWS's documented setup).
resource "aws_vpc_security_group_ingress_rule" "redshift_replies" {
  #checkov:skip=CKV_AWS_24:source is the Redshift security group, not 0.0.0.0/0 (checkov misreads the port range)
  #checkov:skip=CKV_AWS_25:source is the Redshift security group, not 0.0.0.0/0 (checkov misreads the port range)
  #checkov:skip=CKV_AWS_260:source is the Redshift security group, not 0.0.0.0/0 (checkov misreads the port range)
  security_group_id            = aws_security_group.quicksight.id
  description                  = "Replies from Redshift"
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
  referenced_security_group_id = var.redshift_security_group_id
}

data "aws_iam_policy_document" "vpc_connection_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["quicksight.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "vpc_connection" {
  name               = "${var.name_prefix}-quicksight-vpc"
  assume_role_policy = data.aws_iam_policy_document.vpc_connection_assume.json
}

data "aws_iam_policy_document" "vpc_connection" {
  #checkov:skip=CKV_AWS_356:only the EC2 Describe actions use "*"; they support no resource-level permissions
  statement {
    sid     = "CreateInterfacesInTheSubnets"
    actions = ["ec2:CreateNetworkInterface"]
    resources = concat(
      [for s in var.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${s}"],
      [
        aws_security_group.quicksight.arn,
        "arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*",
      ],
    )
  }

  statement {
    sid       = "ManageInterfaces"
    actions   = ["ec2:ModifyNetworkInterfaceAttribute", "ec2:DeleteNetworkInterface"]
    resources = [aws_security_group.quicksight.arn, "arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"]
  }

  statement {
    sid     = "DescribeNetwork"
    actions = ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
    # no resource-level permissions: EC2 Describe actions accept only "*".
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "vpc_connection" {
  name   = "quicksight-network-interfaces"
  role   = aws_iam_role.vpc_connection.id
  policy = data.aws_iam_policy_document.vpc_connection.json
}

# QuickSight reads the BI user's secret as its Secrets Manager role. The secret is encrypted with
# the environment's key, not the AWS managed one, so that role must also decrypt with the key:
# only through Secrets Manager and only for that secret (Secrets Manager's encryption context).
data "aws_iam_policy_document" "secrets_key" {
  statement {
    sid       = "ReadTheBiSecret"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [var.redshift_secret_arn]
  }

  statement {
    sid       = "DecryptTheBiSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:SecretARN"
      values   = [var.redshift_secret_arn]
    }
  }
}

resource "aws_iam_role_policy" "secrets_key" {
  name   = "${var.name_prefix}-quicksight-secret-key"
  role   = var.secrets_role_name
  policy = data.aws_iam_policy_document.secrets_key.json
}

resource "aws_quicksight_vpc_connection" "this" {
  vpc_connection_id  = "${var.name_prefix}-redshift"
  name               = "${var.name_prefix} warehouse"
  role_arn           = aws_iam_role.vpc_connection.arn
  security_group_ids = [aws_security_group.quicksight.id]
  subnet_ids         = var.subnet_ids
}

resource "aws_quicksight_data_source" "redshift" {
  data_source_id = "${var.name_prefix}-redshift"
  name           = "${var.name_prefix} warehouse"
  type           = "REDSHIFT"

  parameters {
    redshift {
      host     = var.redshift_host
      port     = var.redshift_port
      database = var.redshift_database
    }
  }

  credentials {
    secret_arn = var.redshift_secret_arn
  }

  ssl_properties {
    disable_ssl = false
  }

  vpc_connection_properties {
    vpc_connection_arn = aws_quicksight_vpc_connection.this.arn
  }

  dynamic "permission" {
    for_each = toset(var.owner_principal_arns)
    content {
      principal = permission.key
      actions   = local.data_source_actions
    }
  }

  # Creating the data source connects to Redshift with the secret.
  depends_on = [aws_iam_role_policy.secrets_key]
}

resource "aws_quicksight_data_set" "mart" {
  for_each    = var.datasets
  data_set_id = "${var.name_prefix}-${each.key}"
  name        = "${var.name_prefix} ${each.key}"
  import_mode = var.import_mode

  physical_table_map {
    physical_table_map_id = each.key
    relational_table {
      data_source_arn = aws_quicksight_data_source.redshift.arn
      schema          = "mart"
      name            = each.value.view
      dynamic "input_columns" {
        for_each = each.value.columns
        content {
          name = input_columns.value.name
          type = input_columns.value.type
        }
      }
    }
  }

  dynamic "permissions" {
    for_each = toset(var.owner_principal_arns)
    content {
      principal = permissions.key
      actions   = local.data_set_actions
    }
  }
}
