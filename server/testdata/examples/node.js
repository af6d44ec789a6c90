const axios = require('axios');
const getContacts = async () => {
try {
const response = await axios.get('https://api.axiom-console.com/v1/leads', {
headers: {
'X-Axiom-API-Key': 'your_api_key_here',
'Content-Type': 'application/json'
}
});
console.log(JSON.stringify(response.data));
return response.data;
} catch (error) {
console.error('Error fetching leads:', error);
process.exitCode = 1;
}
};
getContacts();
