import { applyDecorators, Controller, UseFilters, UseGuards } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.js';
import { AdminErrorFilter } from './admin-error.js';
import { ADMIN_BASE } from './openapi.js';

/** An admin API controller: under /api/admin/v1, behind AdminAuthGuard, errors as `{errcode, error}`. */
export const AdminController = () => applyDecorators(Controller(ADMIN_BASE.slice(1)), UseGuards(AdminAuthGuard), UseFilters(AdminErrorFilter));
