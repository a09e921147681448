"""The admin API (`/platform/v1/admin/...`, admin.yaml): lists, dimension writes and the integration write-backs."""

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from sandbox.fyle import dimensions, fields, render, workflow
from sandbox.fyle.dimensions import parse_rows
from sandbox.fyle.render_expense import ExpenseRenderer
from sandbox.fyle.render_report import report_out
from sandbox.fyle.schemas import ExportSummaryIn, IdOnly, MarkPaidIn
from sandbox.fyle.wire import GrantDep, StateDep, data_list, data_of, empty_ok, list_response

router = APIRouter(tags=["admin"])


@router.get("/expenses")
async def list_expenses(request: Request, state: StateDep, _: GrantDep) -> Response:
    store = state.store
    return list_response(request, store.expenses, fields.expense_fields(store), ExpenseRenderer(store))


@router.get("/reports")
async def list_reports(request: Request, state: StateDep, _: GrantDep) -> Response:
    store = state.store
    return list_response(request, store.reports, fields.report_fields(store), lambda r: report_out(store, r))


@router.get("/employees")
async def list_employees(request: Request, state: StateDep, _: GrantDep) -> Response:
    store = state.store
    return list_response(request, store.employees, fields.employee_fields(), lambda e: render.employee_out(store, e))


@router.get("/categories")
async def list_categories(request: Request, state: StateDep, _: GrantDep) -> Response:
    return list_response(request, state.store.categories, fields.category_fields(), render.category_out)


@router.get("/projects")
async def list_projects(request: Request, state: StateDep, _: GrantDep) -> Response:
    store = state.store
    return list_response(request, store.projects, fields.project_fields(), lambda p: render.project_out(store, p))


@router.get("/cost_centers")
async def list_cost_centers(request: Request, state: StateDep, _: GrantDep) -> Response:
    return list_response(request, state.store.cost_centers, fields.cost_center_fields(), render.cost_center_out)


@router.get("/expense_fields")
async def list_expense_fields(request: Request, state: StateDep, _: GrantDep) -> Response:
    return list_response(request, state.store.expense_fields, fields.expense_field_fields(), render.expense_field_out)


@router.post("/categories/bulk")
async def post_categories(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    dimensions.upsert_categories(state.store, await data_list(request))
    return empty_ok()


@router.post("/categories")
async def post_category(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    [category] = dimensions.upsert_categories(state.store, [await data_of(request)])
    return JSONResponse({"data": render.category_out(category)})


@router.post("/projects/bulk")
async def post_projects(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    dimensions.upsert_projects(state.store, await data_list(request))
    return empty_ok()


@router.post("/projects")
async def post_project(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    [project] = dimensions.upsert_projects(state.store, [await data_of(request)])
    return JSONResponse({"data": render.project_out(state.store, project)})


@router.post("/cost_centers/bulk")
async def post_cost_centers(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    dimensions.upsert_cost_centers(state.store, await data_list(request))
    return empty_ok()


@router.post("/cost_centers")
async def post_cost_center(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    [cost_center] = dimensions.upsert_cost_centers(state.store, [await data_of(request)])
    return JSONResponse({"data": render.cost_center_out(cost_center)})


@router.post("/expenses/accounting_export_summary/bulk")
async def post_expense_export_summaries(request: Request, state: StateDep, grant: GrantDep) -> JSONResponse:
    items = parse_rows(await data_list(request), ExportSummaryIn)
    workflow.set_expense_export_summaries(state.store, items, tpa_id=grant.client_id)
    return empty_ok()


@router.post("/reports/accounting_export_summary/bulk")
async def post_report_export_summaries(request: Request, state: StateDep, grant: GrantDep) -> JSONResponse:
    items = parse_rows(await data_list(request), IdOnly)
    workflow.initiate_report_exports(state.store, items, tpa_id=grant.client_id)
    return empty_ok()


@router.post("/reports/mark_paid/bulk")
async def post_mark_paid(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    workflow.mark_paid(state.store, parse_rows(await data_list(request), MarkPaidIn))
    return empty_ok()
