export { projectsProjection } from './projects.projection.ts';
export type {
  AnalysisView,
  ListAnalysesOptions,
  ListProjectsOptions,
  ProjectDetail,
  ProjectPage,
  ProjectView,
} from './projects.queries.ts';
export { getAnalysis, getProject, listAnalyses, listProjects } from './projects.queries.ts';
