# Reads the pipeline files (include/pipelines/*.yaml) and derives what Terraform deploys from
# them: one Glue job per glue_job node, one crawler per glue_crawler name, one state machine and
# one schedule per pipeline. Nothing here is listed by hand, so a new node or pipeline needs no
# Terraform change. The module has no resources and no providers: tests apply it offline.

locals {
  files = sort(tolist(fileset(var.pipelines_dir, "*.yaml")))

  pipelines = {
    for f in local.files : trimsuffix(f, ".yaml") => yamldecode(file("${var.pipelines_dir}/${f}"))
  }

  # A pipeline's nodes with its for_each_entity templates expanded, as the pipeline model does
  # (plugins/dwh/for_each_entity.py), for the fields read here: {entity} in the id and the
  # arguments becomes each entity's name.
  nodes = {
    for name, p in local.pipelines : name => concat(
      [for n in p.nodes : n],
      flatten([
        for t in try(p.for_each_entity.nodes, []) : [
          for e in p.for_each_entity.entities : merge(t, {
            id        = replace(t.id, "{entity}", e)
            arguments = { for k, v in try(t.arguments, {}) : k => replace(tostring(v), "{entity}", e) }
          })
        ]
      ])
    )
  }

  # Same defaults as the pipeline model (plugins/dwh/graph.py) for fields a node may omit.
  glue_job_nodes = flatten([
    for name, p in local.pipelines : [
      for n in local.nodes[name] : {
        id       = n.id
        pipeline = name
        definition = {
          script            = n.script
          arguments         = { for k, v in try(n.arguments, {}) : k => tostring(v) }
          worker_type       = try(n.worker_type, "G.1X")
          number_of_workers = try(n.number_of_workers, 2)
          timeout_minutes   = try(n.timeout_minutes, p.defaults.timeout_minutes, 60)
        }
      } if n.kind == "glue_job"
    ]
  ])

  glue_job_definitions = { for j in local.glue_job_nodes : j.id => j.definition... }

  glue_jobs = {
    for id, defs in local.glue_job_definitions : id => merge(defs[0], {
      pipelines = sort(distinct([for j in local.glue_job_nodes : j.pipeline if j.id == id]))
    })
  }

  crawler_nodes = flatten([
    for name, p in local.pipelines : [
      for n in local.nodes[name] : {
        crawler  = n.crawler
        pipeline = name
        # "{entities}" stands for the for_each_entity list.
        entities = try(tolist(n.entities), p.for_each_entity.entities)
      } if n.kind == "glue_crawler"
    ]
  ])

  # A crawler named in several pipelines crawls the union of their entities.
  glue_crawlers = {
    for c in distinct([for x in local.crawler_nodes : x.crawler]) : c => {
      entities  = sort(distinct(flatten([for x in local.crawler_nodes : x.entities if x.crawler == c])))
      pipelines = sort(distinct([for x in local.crawler_nodes : x.pipeline if x.crawler == c]))
    }
  }

  state_machines = {
    for name, p in local.pipelines : name => {
      definition_file        = "${var.stepfunctions_dir}/${name}.asl.json"
      description            = p.description
      airflow_schedule       = try(p.schedule, null)
      stepfunctions_schedule = try(p.stepfunctions_schedule, null)
      redshift_api_target    = try(p.redshift_api_target, "cluster")
      glue_jobs              = sort(distinct([for n in local.nodes[name] : n.id if n.kind == "glue_job"]))
      glue_crawlers          = sort(distinct([for n in local.nodes[name] : n.crawler if n.kind == "glue_crawler"]))
    }
  }
}
