// The service's user roles (api/src/auth.rs `Role`), which decide the screens a person gets.
// What anyone may do with a case comes from the server (`available_actions`), never from here.
import { session } from './session'

const ADMIN = 'provincial_admin'
const EXPERT = 'expert'
const APPLICANT = 'applicant'

export const isAdmin = () => session.user?.role === ADMIN
export const isExpert = () => session.user?.role === EXPERT
export const isApplicant = () => session.user?.role === APPLICANT
/** The reviewing level between applicants and the province (a city's civil affairs bureau). */
export const isReviewer = () => !!session.user && !isAdmin() && !isExpert() && !isApplicant()
